-- A Stats API query whose dimensions and filters are all visit properties and whose
-- metrics can all be counted per visit (plan.rs decides), after visits_cte.sql: the
-- visits are filtered and grouped as they are, without joining each visit back onto
-- its events. The numbers are those stats.sql gives for the same query.
matched AS (
    SELECT * FROM sess WHERE {filter}
),
-- A visit counts when it has an event other than engagement (as in stats.sql); one
-- without a visitor id is a visitor of its own.
em AS MATERIALIZED (
    SELECT {event_dims}
        {visitors}                                 AS visitors,
        count(*)                                   AS visits,
        coalesce(sum(v_pageviews), 0)              AS pageviews,
        coalesce(sum(v_events), 0)                 AS events,
        count(*)                                   AS sessions,
        coalesce(sum(CAST(v_bounce AS BIGINT)), 0) AS bounces,
        coalesce(sum(v_duration), 0)               AS duration
    FROM matched
    WHERE v_events > 0
    GROUP BY ALL
),
sm AS (
    SELECT * FROM em
),
tot AS (
    SELECT {visitors_total} AS visitors
    FROM matched WHERE v_events > 0
)
SELECT {output}
FROM em
{joins}
ORDER BY {order}
LIMIT ? OFFSET ?
