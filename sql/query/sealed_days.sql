-- Sealed visit days in [$1, $2), the day of their visits' last event and whether
-- their partials are stored, in order.
SELECT CAST(day AS VARCHAR), CAST(last_day AS VARCHAR), partials
FROM sealed_days
WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
ORDER BY day;
