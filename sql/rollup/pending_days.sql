-- Ended days that have events but no aggregates or no pairs yet, with whether each
-- has its aggregates and its pairs. $1: today (UTC).
SELECT
    CAST(day AS VARCHAR) AS day,
    day IN (SELECT day FROM rolled_up_days) AS rolled_up,
    day IN (SELECT day FROM paired_days)    AS paired
FROM (SELECT DISTINCT CAST(ts AS DATE) AS day FROM events WHERE ts < CAST($1 AS DATE))
WHERE NOT (day IN (SELECT day FROM rolled_up_days) AND day IN (SELECT day FROM paired_days))
ORDER BY day;
