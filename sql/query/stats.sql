-- One Stats API query (src/query/plan.rs renders it). Each braced placeholder is filled
-- only with fixed, allow-listed fragments from plan.rs; every value (site, times,
-- filter values, limit, offset) is a bound parameter, pushed in textual order.
--
-- Events with no visitor/session id (privacy-signal hits) get a key of their own
-- (-1 - rowid), so each counts as one visitor and one visit.
WITH base AS (
    SELECT *,
        coalesce(CAST(session_id AS HUGEINT), -1 - rowid) AS sk,
        coalesce(CAST(visitor_id AS HUGEINT), -1 - rowid) AS vk
    FROM (SELECT *, rowid FROM events WHERE site = ? AND ts >= ? AND ts < ?)
),
-- Visits: attributes from the visit's first event, as the `sessions` view does.
sess AS (
    SELECT sk,
        {session_start} AS v_lstart,
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
        arg_min(connection_type, ts) AS v_connection_type
    FROM base
    GROUP BY sk
),
-- Events with their visit's attributes: plan.rs joins `sess` only when a dimension
-- or filter reads a visit attribute (the join costs more than the rest together).
ev AS (
    SELECT base.*, {event_time} AS lts {visit_join}
),
matched AS (
    SELECT * FROM ev WHERE {filter}
),
-- Event metrics per dimension group: plan.rs lists only the aggregates the metrics
-- read, because each distinct count is a hash table of its own over every event.
em AS (
    SELECT {event_dims}
        {event_aggregates}
        count(*) AS n
    FROM matched
    WHERE {event_present}
    GROUP BY ALL
    {event_having}
),
-- Visit metrics over the visits with at least one matching event (all of them when
-- the query has no filter).
sm AS (
    SELECT {session_dims}
        count(*)                              AS sessions,
        sum(CAST(v_bounce AS BIGINT))         AS bounces,
        sum(v_duration)                       AS duration,
        sum(v_pageviews)                      AS pageviews
    FROM sess
    WHERE {visit_matched}
    GROUP BY ALL
),
-- Scroll depth: the deepest scroll per visit and group, averaged.
sd AS (
    SELECT {scroll_outer_dims} avg(depth) AS depth
    FROM (
        SELECT {event_dims} sk, max(scroll_depth) AS depth
        FROM matched
        WHERE name = 'engagement' AND scroll_depth IS NOT NULL
        GROUP BY ALL
    )
    GROUP BY ALL
),
tot AS (
    SELECT count(DISTINCT vk) FILTER (WHERE name <> 'engagement') AS visitors FROM matched
),
-- Conversion-rate denominators: the query without its goal/name filters.
conv AS (
    SELECT {conversion_dims}
        count(DISTINCT vk) FILTER (WHERE name <> 'engagement') AS visitors
    FROM ev
    WHERE {conversion_filter}
    GROUP BY ALL
)
SELECT {output}
FROM em
{joins}
ORDER BY {order}
LIMIT ? OFFSET ?
