-- Rolls one day's events up into daily_aggregates. $1: the day, $2: the minimum
-- crowd size k. A visit is cut at midnight (it counts on each day it touches).
-- Events without a pseudonym (privacy signal) are each their own visitor and visit.
INSERT INTO daily_aggregates
WITH e AS (
    SELECT
        *,
        coalesce(CAST(session_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR)) AS skey,
        coalesce(CAST(visitor_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR)) AS vkey
    FROM events
    WHERE ts >= CAST($1 AS DATE) AND ts < CAST($1 AS DATE) + INTERVAL 1 DAY
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
    GROUP BY site, skey
),
visit_rows AS (
    SELECT site, dimension, value, vkey, pageviews, custom, duration_s
    FROM (
        UNPIVOT visits
        ON source, channel, referrer, utm_source, utm_medium, utm_campaign, utm_content,
           utm_term, country, device, browser, browser_version, os, os_version, screen,
           connection_type, entry_page, exit_page
        INTO NAME dimension VALUE value
    )
    UNION ALL
    SELECT site, 'total', '', vkey, pageviews, custom, duration_s FROM visits
),
by_visit AS (
    SELECT
        site,
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
        dimension,
        value,
        count(DISTINCT vkey)                      AS visitors,
        count(DISTINCT skey)                      AS visits,
        count(*) FILTER (WHERE name = 'pageview') AS pageviews,
        0                                         AS bounces,
        0                                         AS duration_s,
        count(*)                                  AS events
    FROM (
        SELECT site, 'page' AS dimension, pathname AS value, vkey, skey, name FROM counted WHERE name <> 'engagement'
        UNION ALL
        SELECT site, 'hostname', hostname, vkey, skey, name FROM counted WHERE name <> 'engagement'
        UNION ALL
        SELECT site, 'name', name, vkey, skey, name FROM counted WHERE name <> 'engagement'
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
    CAST($1 AS DATE) AS day,
    dimension,
    -- Minimum crowd size: no stored row describes fewer than k visitors.
    CASE WHEN visitors < $2 AND dimension <> 'total' THEN '(other)' ELSE value END AS value,
    sum(visitors), sum(visits), sum(pageviews), sum(bounces), sum(duration_s), sum(events)
FROM all_rows
GROUP BY ALL;
