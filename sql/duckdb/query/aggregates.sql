-- Sums over the anonymous daily aggregates, for the days a Stats API query reaches
-- before the event retention (src/query/aggregates.rs renders it,
-- followed by aggregate_rows.sql). Braced
-- placeholders take only fixed fragments from aggregates.rs; every value is a bound
-- parameter: $1 site, $2 first day, $3 day after the last, $4 the dimension whose
-- rows give visitors/visits/pageviews/events, $5 the dimension whose rows give the
-- visit metrics ('entry_page' for pages, as the events path does), $6 goals only
-- (drop 'pageview'/'engagement' names), $7… filter values.
--
-- Visitors are per day (the salt rotates daily), so summing days adds them exactly as
-- the events path counts them: a visitor seen on two days is two visitors.
WITH picked AS (
    SELECT
        {bucket} AS bucket,
        {label}  AS label,
        dimension, visitors, visits, pageviews, bounces, duration_s, events
    FROM daily_aggregates
    WHERE site = $1
      AND day >= CAST($2 AS DATE) AND day < CAST($3 AS DATE)
      AND dimension IN ($4, $5)
      AND {values}
      AND NOT ($6 AND value IN ('pageview', 'engagement'))
),
em AS (
    SELECT bucket, label,
        sum(visitors) AS visitors, sum(visits) AS visits,
        sum(pageviews) AS pageviews, sum(events) AS events
    FROM picked
    WHERE dimension = $4
    GROUP BY ALL
),
sm AS (
    SELECT bucket, label,
        sum(visits) AS sessions, sum(bounces) AS bounces,
        sum(duration_s) AS duration, sum(pageviews) AS pageviews
    FROM picked
    WHERE dimension = $5
    GROUP BY ALL
)
