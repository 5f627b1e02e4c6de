-- Ended days that have events but no aggregates yet. $1: today (UTC).
SELECT DISTINCT CAST(CAST(ts AS DATE) AS VARCHAR) AS day
FROM events
WHERE ts < CAST($1 AS DATE)
  AND CAST(ts AS DATE) NOT IN (SELECT day FROM rolled_up_days)
ORDER BY day;
