-- The UTC days that have events, in order, with how many (spoorloos
-- migrate-to-clickhouse moves them a day at a time).
SELECT CAST(CAST(ts AS DATE) AS VARCHAR) AS day, count(*)
FROM events
GROUP BY ALL
ORDER BY day
