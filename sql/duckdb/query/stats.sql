-- A Stats API query over events, after visits_cte.sql: each event joined to its visit
-- where needed, filtered, then grouped by event (em) and by visit (sm).
-- Events with their visit's attributes: plan.rs joins `sess` only when a dimension
-- or filter reads a visit attribute (the join costs more than the rest together).
ev AS (
    {events}
),
matched AS {matched_mode}(
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
-- the query has no filter). Only visits that count (an event other than engagement)
-- are visits here, as in `em`: then every group here has its group in `em`, and the
-- answers for disjoint sets of visits add up (visit partials rely on it).
sm AS (
    SELECT {session_dims}
        count(*)                              AS sessions,
        sum(CAST(v_bounce AS BIGINT))         AS bounces,
        sum(v_duration)                       AS duration,
        sum(v_pageviews)                      AS pageviews
    FROM sess
    WHERE {visit_matched} AND v_events > 0
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
-- The visitors of the whole answer (plan.rs: over the matched events, or over the
-- matching visits when every filter is a visit property).
tot AS MATERIALIZED (
    {total}
),
-- Conversion-rate denominators: the query without its goal/name filters (plan.rs:
-- the total where that is the same).
conv AS (
    {conversion}
)
SELECT {output}
FROM em
{joins}
ORDER BY {order}
LIMIT ? OFFSET ?
