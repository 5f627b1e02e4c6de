-- A Stats API query by time bucket (and visit properties) whose filters are all
-- visit properties and whose metrics can all be counted per visit (plan.rs decides),
-- after visits_cte.sql. The numbers are those stats.sql gives for the same query,
-- without joining every event of the range onto the matching visits.
matched AS (
    SELECT * FROM sess WHERE {filter} AND v_events > 0
),
-- The matching visits per time bucket they have counted events in. A visit whose
-- first and last counted events share a bucket (nearly all) is counted there whole;
-- the others are split by their events' names and times (`v_hours`, kept for every
-- visit whose events span more than one UTC hour: plan.rs asks this only in time
-- zones of whole hours, where a visit inside one UTC hour is inside one bucket).
parts AS (
    SELECT {start_dims} sk, v_visitor, v_pageviews AS pageviews, v_events AS events
    FROM matched
    WHERE {same_bucket}
    UNION ALL
    SELECT {list_dims} sk, v_visitor,
        count(*) FILTER (WHERE e.name = 'pageview') AS pageviews,
        count(*) AS events
    FROM (SELECT *, unnest(v_hours) AS e FROM matched WHERE NOT ({same_bucket}))
    GROUP BY ALL
),
-- Event metrics per bucket; a visit with events in two buckets is a visit in each,
-- as stats.sql counts it.
em AS MATERIALIZED (
    SELECT {group_dims}
        count(DISTINCT v_visitor)
            + count(*) FILTER (WHERE v_visitor IS NULL) AS visitors,
        count(*)                                   AS visits,
        coalesce(sum(pageviews), 0)                AS pageviews,
        coalesce(sum(events), 0)                   AS events
    FROM parts
    GROUP BY ALL
),
-- Visit metrics in the bucket each visit began in.
sm AS (
    SELECT {session_dims}
        count(*)                                   AS sessions,
        coalesce(sum(CAST(v_bounce AS BIGINT)), 0) AS bounces,
        coalesce(sum(v_duration), 0)               AS duration,
        coalesce(sum(v_pageviews), 0)              AS pageviews
    FROM matched
    GROUP BY ALL
),
tot AS (
    SELECT count(DISTINCT v_visitor) + count(*) FILTER (WHERE v_visitor IS NULL) AS visitors
    FROM matched
)
SELECT {output}
FROM em
{joins}
ORDER BY {order}
LIMIT ? OFFSET ?
