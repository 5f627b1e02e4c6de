-- Visit days before $1 (or from $2 on: stamped ahead of the clock) that have events
-- but no pairs: days whose events expire without having been sealed (a store
-- imported, or a collector stopped for longer than the event retention), in order.
SELECT DISTINCT CAST(visit_day AS VARCHAR) AS day
FROM events
WHERE (visit_day < CAST($1 AS DATE) OR visit_day >= CAST($2 AS DATE))
  AND visit_day NOT IN (SELECT day FROM paired_days)
ORDER BY day;
