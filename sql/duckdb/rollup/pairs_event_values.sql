-- Per visit that began on day $1 and value of an event property (page, hostname,
-- name): its pageviews and events, for the exact pair count (store/pairs.rs).
SELECT site, skey, dimension, value,
    count(*) FILTER (WHERE name = 'pageview') AS pageviews,
    count(*)                                  AS events
FROM rollup_event_values(CAST($1 AS DATE), CAST($1 AS DATE), true)
WHERE value IS NOT NULL
GROUP BY ALL
