-- The stored visits of day $1 (rollup/visits_insert_day.sql) for the exact pair
-- count (store/pairs.rs): per visit its visitor (or itself where there is none),
-- sums and the 16 visit properties in the order pairs.rs numbers them, with the
-- labels the daily roll-up gives a missing value (rollup/visits_macro.sql). A
-- visit of engagement events alone is no visit.
SELECT site,
    coalesce(visitor_id, session_id)         AS vkey,
    session_id                               AS skey,
    pageviews,
    events - pageviews                       AS custom,
    duration_s,
    browser,
    channel,
    coalesce(connection_type, '(none)'),
    coalesce(country, '(none)'),
    device,
    coalesce(entry_page, '(none)'),
    coalesce(exit_page, '(none)'),
    os,
    coalesce(referrer, '(none)'),
    coalesce(screen, '(none)'),
    coalesce(source, 'Direct / None'),
    coalesce(utm_campaign, '(none)'),
    coalesce(utm_content, '(none)'),
    coalesce(utm_medium, '(none)'),
    coalesce(utm_source, '(none)'),
    coalesce(utm_term, '(none)')
FROM visits
WHERE visit_day = CAST($1 AS DATE) AND events > 0
