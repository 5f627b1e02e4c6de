-- The top figures of a view filtered by one page or goal, over the sealed days a
-- Stats API query reads whole (src/query/duckdb/render.rs renders it): visitors,
-- visits, pageviews and events from the value's visit partials; the visit figures
-- of the visits with any event of that value (visits, bounces, duration, their
-- pageviews) from its own rows in the days' exact pairs (migrations 0014 and 0015;
-- {own} is 'page' or 'name'). Parameters as in partials.sql: $1 site, $2 first and
-- $3 last visit day, $4 the property, $5 the value (on `value`). No row where the
-- value has no visits, as partials.sql.
WITH counted AS (
    SELECT
        CAST(sum(visitors) AS BIGINT)  AS visitors,
        CAST(sum(visits) AS BIGINT)    AS visits,
        CAST(sum(pageviews) AS BIGINT) AS pageviews,
        CAST(sum(events) AS BIGINT)    AS events
    FROM visit_partials
    WHERE site = $1
      AND visit_day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
      AND property = $4
      AND bucket IS NULL
      AND {values}
),
visited AS (
    SELECT
        CAST(sum(visits) AS BIGINT)     AS sessions,
        CAST(sum(bounces) AS BIGINT)    AS bounces,
        CAST(sum(duration_s) AS BIGINT) AS duration,
        CAST(sum(pageviews) AS BIGINT)  AS session_pageviews
    FROM daily_pairs
    WHERE site = $1
      AND day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
      AND dimension = {own}
      AND dimension2 = ''
      AND {values}
)
SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
    visitors, visits, pageviews, events,
    coalesce(sessions, 0), coalesce(bounces, 0), coalesce(duration, 0),
    coalesce(session_pageviews, 0)
FROM counted, visited
WHERE visitors IS NOT NULL;
