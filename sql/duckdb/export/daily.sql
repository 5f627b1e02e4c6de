-- Export: daily aggregates for spreadsheets and BI tools, one row per
-- day × dimension × value (visitors, visits, pageviews, bounce_rate in %,
-- visit_duration in seconds). Days already rolled up are read from daily_aggregates;
-- the days not rolled up yet (today, or while the collector was not running) are
-- computed here from events by the roll-up's own macro (sql/duckdb/rollup/rows_macro.sql),
-- without writing anything. Days are UTC days, as in daily_aggregates.
-- $1 site, $2 first day, $3 last day (inclusive), $4 minimum crowd size.
-- {target}: the output path as a SQL string literal; {options}: an allow-listed
-- FORMAT clause; {value}: the value column, in CSV with formulas kept as text.
COPY (
WITH from_events AS (
    SELECT day, dimension, value, visitors, visits, pageviews, bounces, duration_s
    FROM rollup_rows(CAST($2 AS DATE), CAST($3 AS DATE), $4)
    WHERE site = $1 AND day NOT IN (SELECT day FROM rolled_up_days)
),
combined AS (
    SELECT day, dimension, value, visitors, visits, pageviews, bounces, duration_s
    FROM daily_aggregates
    WHERE site = $1 AND day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
    UNION ALL
    SELECT * FROM from_events
)
SELECT
    day,
    dimension,
    {value} AS value,
    CAST(visitors AS BIGINT)  AS visitors,
    CAST(visits AS BIGINT)    AS visits,
    CAST(pageviews AS BIGINT) AS pageviews,
    -- Page, hostname and event-name rows count events, not visits: no visit metrics.
    CASE WHEN dimension IN ('page', 'hostname', 'name') OR visits = 0 THEN NULL
         ELSE CAST(round(100.0 * bounces / visits) AS BIGINT) END AS bounce_rate,
    CASE WHEN dimension IN ('page', 'hostname', 'name') OR visits = 0 THEN NULL
         ELSE CAST(round(duration_s / visits) AS BIGINT) END AS visit_duration
FROM combined
ORDER BY day, dimension, visitors DESC, value
) TO {target} ({options});
