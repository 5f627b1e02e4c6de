-- Ended days that have events but no aggregates yet. $1: today (UTC).
SELECT CAST(day AS VARCHAR) AS day
FROM (SELECT DISTINCT CAST(ts AS DATE) AS day FROM events WHERE ts < CAST($1 AS DATE))
WHERE day NOT IN (SELECT day FROM rolled_up_days)
ORDER BY day;
