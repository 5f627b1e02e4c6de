-- Sealed visit days in [$1, $2) and the day of their visits' last event, in order.
SELECT CAST(day AS VARCHAR), CAST(last_day AS VARCHAR)
FROM sealed_days
WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
ORDER BY day;
