-- The answer rows of aggregates.sql and pairs.sql, which end in `em` (visitors,
-- visits, pageviews, events per bucket and label) and `sm` (the visit metrics'
-- sums): one row per bucket and label, in the order combine.rs reads them.
SELECT
    em.bucket,
    em.label,
    CAST(em.visitors AS BIGINT),
    CAST(em.visits AS BIGINT),
    CAST(em.pageviews AS BIGINT),
    CAST(em.events AS BIGINT),
    CAST(coalesce(sm.sessions, 0) AS BIGINT),
    CAST(coalesce(sm.bounces, 0) AS BIGINT),
    CAST(coalesce(sm.duration, 0) AS BIGINT),
    CAST(coalesce(sm.pageviews, 0) AS BIGINT)
FROM em
LEFT JOIN sm
    ON em.bucket IS NOT DISTINCT FROM sm.bucket AND em.label IS NOT DISTINCT FROM sm.label
ORDER BY 1, 2;
