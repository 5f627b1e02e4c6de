-- The visits the daily roll-up counts (rows_macro.sql for daily_aggregates), one
-- row per site × UTC day × visit for the days [first_day, last_day]: visits are cut
-- at midnight (a visit counts on each day it touches). A pageview or custom event
-- makes a visit, engagement events alone do not; an event without a session or
-- visitor id is a visit and a visitor of its own. Attributes come from the visit's
-- first event of the day, entry and exit page from its first and last pageview.
-- `rollup_counted` gives the events of those visits, with the same keys, for the
-- event-level dimensions (page, hostname, name); the keys are derived from the
-- event, so both agree however often they are read.
CREATE OR REPLACE MACRO rollup_counted(first_day, last_day) AS TABLE
WITH e AS (
    SELECT
        *,
        CAST(ts AS DATE) AS day,
        coalesce(session_id, hash(site, ts, name, pathname)) AS skey,
        coalesce(visitor_id, session_id, hash(site, ts, name, pathname)) AS vkey
    FROM events
    WHERE ts >= CAST(first_day AS DATE) AND ts < CAST(last_day AS DATE) + INTERVAL 1 DAY
),
counted AS (
    SELECT * FROM e
    WHERE (day, skey) IN (SELECT (day, skey) FROM e WHERE name <> 'engagement')
)
FROM counted;

CREATE OR REPLACE MACRO rollup_visits(first_day, last_day) AS TABLE
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
FROM rollup_counted(first_day, last_day)
GROUP BY site, day, skey;

-- The counted events with the value of each event-level dimension (page, hostname,
-- name), one row per event and dimension; engagement events carry none.
CREATE OR REPLACE MACRO rollup_event_values(first_day, last_day) AS TABLE
SELECT counted.*, d.dimension, d.value
FROM rollup_counted(first_day, last_day) AS counted,
    LATERAL (VALUES ('page', pathname), ('hostname', hostname), ('name', name)) d(dimension, value)
WHERE name <> 'engagement';
