-- Sealed visit days from $1 on whose partials are not stored yet, in order, with the
-- day of their visits' last event and each site with events that day (none: a day
-- without events).
SELECT CAST(s.day AS VARCHAR), CAST(s.last_day AS VARCHAR), e.site
FROM sealed_days AS s
LEFT JOIN (
    SELECT DISTINCT visit_day, site FROM events WHERE visit_day >= CAST($1 AS DATE)
) AS e ON e.visit_day = s.day
WHERE NOT s.partials AND s.day >= CAST($1 AS DATE)
ORDER BY 1, 3;
