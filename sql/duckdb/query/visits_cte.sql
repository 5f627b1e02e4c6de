-- The start of every Stats API query over events (src/query/plan.rs renders it, followed
-- by stats.sql or by_visit.sql). Each braced placeholder is filled only with fixed,
-- allow-listed fragments from plan.rs; every value (site, times, filter values, limit,
-- offset) is a bound parameter, pushed in textual order.
--
-- A privacy-signal hit has a session id of its own (the pipeline draws one for it
-- alone), so each is one visit; without a visitor id each is one visitor (counted
-- beside the distinct ids: plan.rs). Events stored without a session id at all
-- would each get a key of their own (-1 - rowid). `in_range` is the site and time range,
-- restricted to visits by the day they began where visit partials answer the
-- other days (src/query/partials.rs).
WITH base AS (
    SELECT *,
        coalesce(CAST(session_id AS HUGEINT), -1 - rowid) AS sk
    FROM (SELECT *, rowid FROM events WHERE {in_range})
),
-- Visits: attributes from the visit's first event, as the `sessions` view does. A
-- visit starts (for time buckets) at its first event other than engagement, the
-- first that makes it count; visits of engagement events alone are no visits.
-- The visits of sealed days that lie wholly inside the range are read as stored
-- (sql/duckdb/rollup/visits_insert_day.sql computes them as below); only the others are
-- grouped from the events. A visit without a visitor id (v_visitor NULL) is a
-- visitor of its own.
sess AS (
    SELECT * FROM (
        SELECT CAST(session_id AS HUGEINT) AS sk,
            {stored_start} AS v_lstart,
            visitor_id AS v_visitor,
            events AS v_events,
            entry_page AS v_entry_page,
            exit_page AS v_exit_page,
            pageviews AS v_pageviews,
            duration_s AS v_duration,
            bounce AS v_bounce,
            referrer AS v_referrer,
            source AS v_source,
            channel AS v_channel,
            utm_source AS v_utm_source,
            utm_medium AS v_utm_medium,
            utm_campaign AS v_utm_campaign,
            utm_content AS v_utm_content,
            utm_term AS v_utm_term,
            country AS v_country,
            device AS v_device,
            browser AS v_browser,
            browser_version AS v_browser_version,
            os AS v_os,
            os_version AS v_os_version,
            screen AS v_screen,
            connection_type AS v_connection_type,
            region AS v_region,
            city AS v_city,
            event_list AS v_event_list,
            {stored_end} AS v_lend,
            hours AS v_hours,
            steady AS v_steady,
            {stored_first} AS v_first,
            {stored_first_total} AS v_first_total
        FROM visits
        WHERE {stored_visits}
        UNION ALL
        -- Unmarked: a query counts these visitors distinctly (plan.rs), which costs
        -- less for a day's visits than marking them with windows per query.
        SELECT *,
            FALSE AS v_steady,
            NULL AS v_first,
            NULL AS v_first_total
        FROM (
            SELECT sk,
                {session_start} AS v_lstart,
                min(visitor_id)                                                 AS v_visitor,
                count(*) FILTER (WHERE name <> 'engagement')                    AS v_events,
                arg_min(pathname, ts) FILTER (WHERE name = 'pageview')          AS v_entry_page,
                arg_max(pathname, ts) FILTER (WHERE name = 'pageview')          AS v_exit_page,
                count(*) FILTER (WHERE name = 'pageview')                       AS v_pageviews,
                CAST(epoch(max(ts) - min(ts)) AS BIGINT)                        AS v_duration,
                count(*) FILTER (WHERE name = 'pageview') <= 1
                    AND count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) = 0 AS v_bounce,
                arg_min(referrer, ts)        AS v_referrer,
                arg_min(source, ts)          AS v_source,
                arg_min(channel, ts)         AS v_channel,
                arg_min(utm_source, ts)      AS v_utm_source,
                arg_min(utm_medium, ts)      AS v_utm_medium,
                arg_min(utm_campaign, ts)    AS v_utm_campaign,
                arg_min(utm_content, ts)     AS v_utm_content,
                arg_min(utm_term, ts)        AS v_utm_term,
                arg_min(country, ts)         AS v_country,
                arg_min(device, ts)          AS v_device,
                arg_min(browser, ts)         AS v_browser,
                arg_min(browser_version, ts) AS v_browser_version,
                arg_min(os, ts)              AS v_os,
                arg_min(os_version, ts)      AS v_os_version,
                arg_min(screen, ts)          AS v_screen,
                arg_min(connection_type, ts) AS v_connection_type,
                arg_min(region, ts)          AS v_region,
                arg_min(city, ts)            AS v_city,
                list(struct_pack(name := name, p := pathname, "first" := CAST(NULL AS BOOLEAN)))
                    FILTER (WHERE name <> 'engagement') AS v_event_list,
                {session_end}                AS v_lend,
                list(struct_pack(name := name, ts := ts)) FILTER (WHERE name <> 'engagement')
                                             AS v_hours
            FROM (
                SELECT *, coalesce(CAST(session_id AS HUGEINT), -1 - rowid) AS sk
                FROM (SELECT *, rowid FROM events WHERE {in_range} AND {fresh_days})
            )
            GROUP BY sk
        )
    )
    -- A query filtered by visit properties alone reads only the matching visits.
    -- Filtered here, once, the comparison reaches the visits' scan; left to each of
    -- the CTE's readers, DuckDB joined their filters with OR and compared every row.
    WHERE {visit_filter}
),
