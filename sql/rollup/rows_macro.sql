-- The roll-up, as one table macro that both users share: the daily roll-up
-- (rollup/daily.sql, one day, written to daily_aggregates) and the export of days
-- not rolled up yet (export/daily.sql, read only). One row per site × day ×
-- dimension × value, in daily_aggregates' column order. Visits are cut at midnight
-- (a visit counts on each day it touches); events without a pseudonym are each their
-- own visitor and visit; rows under the minimum crowd size `k` are folded into
-- '(other)', so no row describes fewer than k visitors (the daily total excepted).
CREATE OR REPLACE MACRO rollup_rows(first_day, last_day, k) AS TABLE
WITH e AS (
    SELECT
        *,
        CAST(ts AS DATE) AS day,
        coalesce(CAST(session_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR))
            || '@' || CAST(CAST(ts AS DATE) AS VARCHAR) AS skey,
        coalesce(CAST(visitor_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR))
            || '@' || CAST(CAST(ts AS DATE) AS VARCHAR) AS vkey
    FROM events
    WHERE ts >= CAST(first_day AS DATE) AND ts < CAST(last_day AS DATE) + INTERVAL 1 DAY
),
counted AS (
    -- An engagement event alone is no visit: only sessions with a pageview or a
    -- custom event count.
    SELECT * FROM e
    WHERE skey IN (SELECT skey FROM e WHERE name <> 'engagement')
),
visits AS (
    SELECT
        site,
        day,
        skey,
        any_value(vkey)                                                    AS vkey,
        count(*) FILTER (WHERE name = 'pageview')                          AS pageviews,
        count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement'))     AS custom,
        CAST(epoch(max(ts) - min(ts)) AS BIGINT)                           AS duration_s,
        coalesce(arg_min(source, ts), 'Direct / None')                     AS source,
        arg_min(channel, ts)                                               AS channel,
        coalesce(arg_min(referrer, ts), '(none)')                          AS referrer,
        coalesce(arg_min(utm_source, ts), '(none)')                        AS utm_source,
        coalesce(arg_min(utm_medium, ts), '(none)')                        AS utm_medium,
        coalesce(arg_min(utm_campaign, ts), '(none)')                      AS utm_campaign,
        coalesce(arg_min(utm_content, ts), '(none)')                       AS utm_content,
        coalesce(arg_min(utm_term, ts), '(none)')                          AS utm_term,
        coalesce(arg_min(country, ts), '(none)')                           AS country,
        arg_min(device, ts)                                                AS device,
        arg_min(browser, ts)                                               AS browser,
        arg_min(browser || ' ' || browser_version, ts)                     AS browser_version,
        arg_min(os, ts)                                                    AS os,
        arg_min(os || ' ' || os_version, ts)                               AS os_version,
        coalesce(arg_min(screen, ts), '(none)')                            AS screen,
        coalesce(arg_min(connection_type, ts), '(none)')                   AS connection_type,
        coalesce(arg_min(pathname, ts) FILTER (WHERE name = 'pageview'), '(none)') AS entry_page,
        coalesce(arg_max(pathname, ts) FILTER (WHERE name = 'pageview'), '(none)') AS exit_page
    FROM counted
    GROUP BY site, day, skey
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
    FROM (
        SELECT site, day, 'page' AS dimension, pathname AS value, vkey, skey, name FROM counted WHERE name <> 'engagement'
        UNION ALL
        SELECT site, day, 'hostname', hostname, vkey, skey, name FROM counted WHERE name <> 'engagement'
        UNION ALL
        SELECT site, day, 'name', name, vkey, skey, name FROM counted WHERE name <> 'engagement'
    )
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
