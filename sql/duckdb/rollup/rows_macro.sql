-- The roll-up, as one table macro that both users share: the daily roll-up
-- (rollup/daily.sql, one day, written to daily_aggregates) and the export of days
-- not rolled up yet (export/daily.sql, read only). One row per site × day ×
-- dimension × value, in daily_aggregates' column order, over the visits of
-- visits_macro.sql; rows under the minimum crowd size `k` are folded into
-- '(other)', so no row describes fewer than k visitors (the daily total excepted).
CREATE OR REPLACE MACRO rollup_rows(first_day, last_day, k) AS TABLE
WITH visits AS (
    FROM rollup_visits(first_day, last_day)
),
visit_rows AS (
    SELECT site, day, dimension, value, vkey, pageviews, custom, duration_s
    FROM (
        UNPIVOT visits
        ON source, channel, referrer, utm_source, utm_medium, utm_campaign, utm_content,
           utm_term, country, device, browser, browser_version, os, os_version, screen,
           connection_type, entry_page, exit_page
        INTO NAME dimension VALUE value
    )
    UNION ALL
    SELECT site, day, 'total', '', vkey, pageviews, custom, duration_s FROM visits
),
by_visit AS (
    SELECT
        site,
        day,
        dimension,
        value,
        count(DISTINCT vkey)                                  AS visitors,
        count(*)                                              AS visits,
        sum(pageviews)                                        AS pageviews,
        count(*) FILTER (WHERE pageviews <= 1 AND custom = 0) AS bounces,
        sum(duration_s)                                       AS duration_s,
        sum(pageviews + custom)                               AS events
    FROM visit_rows
    GROUP BY ALL
),
by_event AS (
    SELECT
        site,
        day,
        dimension,
        value,
        count(DISTINCT vkey)                      AS visitors,
        count(DISTINCT skey)                      AS visits,
        count(*) FILTER (WHERE name = 'pageview') AS pageviews,
        0                                         AS bounces,
        0                                         AS duration_s,
        count(*)                                  AS events
    FROM rollup_event_values(first_day, last_day)
    GROUP BY ALL
),
all_rows AS (
    SELECT * FROM by_visit
    UNION ALL
    SELECT * FROM by_event
)
SELECT
    site,
    day,
    dimension,
    CASE WHEN visitors < k AND dimension <> 'total' THEN '(other)' ELSE value END AS value,
    CAST(sum(visitors) AS BIGINT)   AS visitors,
    CAST(sum(visits) AS BIGINT)     AS visits,
    CAST(sum(pageviews) AS BIGINT)  AS pageviews,
    CAST(sum(bounces) AS BIGINT)    AS bounces,
    CAST(sum(duration_s) AS BIGINT) AS duration_s,
    CAST(sum(events) AS BIGINT)     AS events
FROM all_rows
GROUP BY ALL;
