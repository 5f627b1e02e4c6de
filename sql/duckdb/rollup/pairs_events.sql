-- The event × event cells of the visits that began on day $1: both values are the
-- same event's, so they are counted here from the events, in one order
-- (store/pairs.rs adds the other).
SELECT site, da, a, db, b,
    count(DISTINCT vkey)                      AS visitors,
    count(DISTINCT skey)                      AS visits,
    count(*) FILTER (WHERE name = 'pageview') AS pageviews,
    count(*)                                  AS events
FROM rollup_counted(CAST($1 AS DATE), CAST($1 AS DATE), true), LATERAL (VALUES
    ('page', pathname, 'hostname', hostname),
    ('page', pathname, 'name', name),
    ('hostname', hostname, 'name', name)
) x(da, a, db, b)
WHERE name <> 'engagement' AND a IS NOT NULL AND b IS NOT NULL
GROUP BY ALL
