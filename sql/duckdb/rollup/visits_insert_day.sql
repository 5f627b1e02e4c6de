-- Stores the visits that began on day $1, one row each, as visits_cte.sql would
-- compute them from the events: attributes from the visit's first event, entry and
-- exit page from its first and last pageview, and the marks that let a query count
-- each visitor by one visit (migration 0010). Run when the day is sealed (every
-- visit that began on it has ended). A privacy-signal hit is a visit of its own
-- under a session id drawn for it alone; events without any session id (none are
-- written) could not be joined back to a stored visit, so they stay out.
INSERT INTO visits BY NAME
WITH v AS (
    SELECT
        site,
        visit_day,
        session_id,
        min(visitor_id)                                                  AS visitor_id,
        min(ts) FILTER (WHERE name <> 'engagement')                      AS started,
        count(*) FILTER (WHERE name <> 'engagement')                     AS events,
        count(*) FILTER (WHERE name = 'pageview')                        AS pageviews,
        CAST(epoch(max(ts) - min(ts)) AS BIGINT)                         AS duration_s,
        count(*) FILTER (WHERE name = 'pageview') <= 1
            AND count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) = 0 AS bounce,
        arg_min(pathname, ts) FILTER (WHERE name = 'pageview')           AS entry_page,
        arg_max(pathname, ts) FILTER (WHERE name = 'pageview')           AS exit_page,
        arg_min(referrer, ts)                                            AS referrer,
        arg_min(source, ts)                                              AS source,
        arg_min(channel, ts)                                             AS channel,
        arg_min(utm_source, ts)                                          AS utm_source,
        arg_min(utm_medium, ts)                                          AS utm_medium,
        arg_min(utm_campaign, ts)                                        AS utm_campaign,
        arg_min(utm_content, ts)                                         AS utm_content,
        arg_min(utm_term, ts)                                            AS utm_term,
        arg_min(country, ts)                                             AS country,
        arg_min(device, ts)                                              AS device,
        arg_min(browser, ts)                                             AS browser,
        arg_min(browser_version, ts)                                     AS browser_version,
        arg_min(os, ts)                                                  AS os,
        arg_min(os_version, ts)                                          AS os_version,
        arg_min(screen, ts)                                              AS screen,
        arg_min(connection_type, ts)                                     AS connection_type,
        arg_min(region, ts)                                              AS region,
        arg_min(city, ts)                                                AS city,
        list(struct_pack(name := name, p := pathname, "first" := first_on_page))
            FILTER (WHERE name <> 'engagement')                          AS event_list,
        max(ts) FILTER (WHERE name <> 'engagement')                      AS ended,
        CASE WHEN date_trunc('hour', min(ts) FILTER (WHERE name <> 'engagement'))
                  <> date_trunc('hour', max(ts) FILTER (WHERE name <> 'engagement'))
             THEN list(struct_pack(name := name, ts := ts)) FILTER (WHERE name <> 'engagement')
        END                                                              AS hours,
        -- The steady attributes, compared over the visitor's visits (NULL-safe).
        hash(arg_min(country, ts), arg_min(region, ts), arg_min(city, ts),
             arg_min(device, ts), arg_min(browser, ts), arg_min(browser_version, ts),
             arg_min(os, ts), arg_min(os_version, ts), arg_min(screen, ts),
             arg_min(connection_type, ts))                               AS steady_key
    FROM (
        -- Whether an event is its visitor's first (but engagement) on its page: the
        -- event with the smallest (ts, session_id) of its group, found by grouping,
        -- which on a day of 334,000 events costs a fraction of a window.
        SELECT *,
            visitor_id IS NULL OR rowid IN (
                SELECT arg_min(rowid, (ts, session_id, rowid))
                FROM events
                WHERE visit_day = CAST($1 AS DATE)
                  AND session_id IS NOT NULL
                GROUP BY site, visitor_id, pathname, name = 'engagement'
            ) AS first_on_page
        FROM events
        WHERE visit_day = CAST($1 AS DATE)
          AND session_id IS NOT NULL
    )
    GROUP BY site, visit_day, session_id
),
-- Whether the steady attributes are the same over the visitor's visits (NULL-safe).
steady AS (
    SELECT site, visitor_id, min(steady_key) = max(steady_key) AS steady
    FROM v
    GROUP BY site, visitor_id
)
-- The marks: each names the visit of a group (a visitor, or a visitor and one
-- property's value) with the earliest start, a visit without a start last. Found
-- by grouping; ten windows over the visits cost three times as much.
SELECT v.* EXCLUDE (steady_key),
    v.visitor_id IS NULL OR coalesce(steady.steady, true) AS steady,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id) AS first_visit,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, referrer) AS first_by_referrer,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, source) AS first_by_source,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, channel) AS first_by_channel,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, utm_source) AS first_by_utm_source,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, utm_medium) AS first_by_utm_medium,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, utm_campaign) AS first_by_utm_campaign,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, utm_content) AS first_by_utm_content,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, utm_term) AS first_by_utm_term,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, entry_page) AS first_by_entry_page,
    visitor_id IS NULL OR (site, session_id) IN (
        SELECT (site, arg_min(session_id, (coalesce(started, TIMESTAMP '9999-12-31'), session_id)))
        FROM v GROUP BY site, visitor_id, exit_page) AS first_by_exit_page
FROM v LEFT JOIN steady USING (site, visitor_id)
ORDER BY site, started;
