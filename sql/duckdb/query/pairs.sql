-- Sums over the anonymous daily pairs, for the days a Stats API query with a filter
-- on one property and a breakdown by another reaches before the event retention
-- (src/query/aggregates.rs renders it,
-- followed by aggregate_rows.sql). Braced placeholders take only fixed
-- fragments from aggregates.rs; every value is a bound parameter: $1 site, $2 first
-- day, $3 day after the last, $4 the breakdown dimension whose rows give
-- visitors/visits/pageviews/events, $5 the one whose rows give the visit metrics,
-- $6 goals only (drop 'pageview'/'engagement' names), $7 the filter dimension for
-- $4, $8 the filter dimension for $5, $9… filter values (on `value`).
--
-- When $5 and $8 are the same dimension (a filter on pages, a breakdown by entry
-- page), the visit metrics are that dimension's own daily aggregates.
WITH picked AS (
    SELECT
        {bucket} AS bucket,
        {label}  AS label,
        dimension, dimension2, visitors, visits, pageviews, bounces, duration_s, events
    FROM daily_pairs
    WHERE site = $1
      AND day >= CAST($2 AS DATE) AND day < CAST($3 AS DATE)
      AND ((dimension = $7 AND dimension2 = $4) OR (dimension = $8 AND dimension2 = $5))
      AND {values}
      AND NOT ($6 AND value2 IN ('pageview', 'engagement'))
),
em AS (
    SELECT bucket, label,
        sum(visitors) AS visitors, sum(visits) AS visits,
        sum(pageviews) AS pageviews, sum(events) AS events
    FROM picked
    WHERE dimension = $7 AND dimension2 = $4
    GROUP BY ALL
),
own AS (
    SELECT {bucket} AS bucket, {own_label} AS label, visits, bounces, duration_s, pageviews
    FROM daily_aggregates
    WHERE $5 = $8
      AND site = $1
      AND day >= CAST($2 AS DATE) AND day < CAST($3 AS DATE)
      AND dimension = $5
      AND {values}
),
sm AS (
    SELECT bucket, label,
        sum(visits) AS sessions, sum(bounces) AS bounces,
        sum(duration_s) AS duration, sum(pageviews) AS pageviews
    FROM (
        SELECT bucket, label, visits, bounces, duration_s, pageviews
        FROM picked
        WHERE dimension = $8 AND dimension2 = $5
        UNION ALL
        SELECT * FROM own
    )
    GROUP BY ALL
)
