-- Export: daily aggregates for spreadsheets and BI tools, one row per
-- day × dimension × value (visitors, visits, pageviews, bounce_rate in %,
-- visit_duration in seconds). Days already rolled up are read from daily_aggregates;
-- the days not rolled up yet (today, or while the collector was not running) are
-- computed here from events with the shape of sql/rollup/daily.sql (visits cut at
-- midnight, rows under the minimum crowd size folded into '(other)'), without
-- writing anything. Days are UTC days, as in daily_aggregates.
-- $1 site, $2 first day, $3 last day (inclusive), $4 minimum crowd size.
-- {target}: the output path as a SQL string literal; {options}: an allow-listed
-- FORMAT clause.
COPY (
WITH e AS (
    SELECT
        *,
        CAST(ts AS DATE) AS day,
        coalesce(CAST(session_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR))
            || '@' || CAST(CAST(ts AS DATE) AS VARCHAR) AS skey,
        coalesce(CAST(visitor_id AS VARCHAR), 'anon' || CAST(row_number() OVER () AS VARCHAR))
            || '@' || CAST(CAST(ts AS DATE) AS VARCHAR) AS vkey
    FROM events
    WHERE site = $1
      AND ts >= CAST($2 AS DATE) AND ts < CAST($3 AS DATE) + INTERVAL 1 DAY
      AND CAST(ts AS DATE) NOT IN (SELECT day FROM rolled_up_days)
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
),
from_events AS (
    SELECT
        day,
        dimension,
        -- Minimum crowd size, as at roll-up: no row describes fewer than k visitors.
        CASE WHEN visitors < $4 AND dimension <> 'total' THEN '(other)' ELSE value END AS value,
        sum(visitors) AS visitors, sum(visits) AS visits, sum(pageviews) AS pageviews,
        sum(bounces) AS bounces, sum(duration_s) AS duration_s
    FROM all_rows
    GROUP BY ALL
),
combined AS (
    SELECT day, dimension, value, visitors, visits, pageviews, bounces, duration_s
    FROM daily_aggregates
    WHERE site = $1 AND day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
    UNION ALL
    SELECT * FROM from_events
)
SELECT
    day,
    dimension,
    value,
    CAST(visitors AS BIGINT)  AS visitors,
    CAST(visits AS BIGINT)    AS visits,
    CAST(pageviews AS BIGINT) AS pageviews,
    -- Page, hostname and event-name rows count events, not visits: no visit metrics.
    CASE WHEN dimension IN ('page', 'hostname', 'name') OR visits = 0 THEN NULL
         ELSE CAST(round(100.0 * bounces / visits) AS BIGINT) END AS bounce_rate,
    CASE WHEN dimension IN ('page', 'hostname', 'name') OR visits = 0 THEN NULL
         ELSE CAST(round(duration_s / visits) AS BIGINT) END AS visit_duration
FROM combined
ORDER BY day, dimension, visitors DESC, value
) TO {target} ({options});
