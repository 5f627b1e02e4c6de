-- Views for analysts who open the file with DuckDB's own tools (read-only).
-- Sessions (visits): entry and exit page, pageviews, duration and bounce.
CREATE OR REPLACE VIEW sessions AS
SELECT
    site,
    session_id,
    any_value(visitor_id)                                         AS visitor_id,
    min(ts)                                                       AS started_at,
    max(ts)                                                       AS ended_at,
    arg_min(pathname, ts) FILTER (WHERE name = 'pageview')        AS entry_page,
    arg_max(pathname, ts) FILTER (WHERE name = 'pageview')        AS exit_page,
    count(*) FILTER (WHERE name = 'pageview')                     AS pageviews,
    count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) AS custom_events,
    CAST(epoch(max(ts) - min(ts)) AS BIGINT)                      AS duration_s,
    count(*) FILTER (WHERE name = 'pageview') <= 1
        AND count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) = 0 AS bounce,
    arg_min(source, ts)                                           AS source,
    arg_min(channel, ts)                                          AS channel,
    arg_min(country, ts)                                          AS country,
    arg_min(device, ts)                                           AS device,
    arg_min(browser, ts)                                          AS browser,
    arg_min(os, ts)                                               AS os
FROM events
WHERE session_id IS NOT NULL
GROUP BY site, session_id;

-- Pageviews per site, day and page: the everyday marketing question.
CREATE OR REPLACE VIEW daily_pages AS
SELECT
    site,
    CAST(ts AS DATE)            AS day,
    pathname                    AS page,
    count(*)                    AS pageviews,
    count(DISTINCT visitor_id)  AS visitors
FROM events
WHERE name = 'pageview'
GROUP BY ALL;
