-- Stores the visits that began on day $1, one row each, as visits_cte.sql would
-- compute them from the events: attributes from the visit's first event, entry and
-- exit page from its first and last pageview. Run when the day is sealed (every
-- visit that began on it has ended). A privacy-signal hit is a visit of its own
-- under a session id drawn for it alone; events without any session id (none are
-- written) could not be joined back to a stored visit, so they stay out.
INSERT INTO visits
SELECT
    site,
    visit_day,
    session_id,
    min(visitor_id),
    min(ts) FILTER (WHERE name <> 'engagement'),
    count(*) FILTER (WHERE name <> 'engagement'),
    count(*) FILTER (WHERE name = 'pageview'),
    CAST(epoch(max(ts) - min(ts)) AS BIGINT),
    count(*) FILTER (WHERE name = 'pageview') <= 1
        AND count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) = 0,
    arg_min(pathname, ts) FILTER (WHERE name = 'pageview'),
    arg_max(pathname, ts) FILTER (WHERE name = 'pageview'),
    arg_min(referrer, ts),
    arg_min(source, ts),
    arg_min(channel, ts),
    arg_min(utm_source, ts),
    arg_min(utm_medium, ts),
    arg_min(utm_campaign, ts),
    arg_min(utm_content, ts),
    arg_min(utm_term, ts),
    arg_min(country, ts),
    arg_min(device, ts),
    arg_min(browser, ts),
    arg_min(browser_version, ts),
    arg_min(os, ts),
    arg_min(os_version, ts),
    arg_min(screen, ts),
    arg_min(connection_type, ts),
    arg_min(region, ts),
    arg_min(city, ts),
    list(struct_pack(name := name, p := pathname)) FILTER (WHERE name <> 'engagement')
FROM events
WHERE visit_day = CAST($1 AS DATE)
  AND session_id IS NOT NULL
GROUP BY site, visit_day, session_id
ORDER BY site, 5;
