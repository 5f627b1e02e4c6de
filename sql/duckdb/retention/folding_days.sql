-- The days whose exact pairs are folded now: those before $1, whose events expire,
-- and those from $2 on (stamped ahead of the clock).
SELECT CAST(day AS VARCHAR) AS day
FROM exact_pairs_days
WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE)
ORDER BY day
