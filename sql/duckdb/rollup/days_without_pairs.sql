-- Sealed visit days from $1 on whose exact pairs are not stored yet, in order: their
-- visits were stored first, so that queries read them while the pairs follow.
SELECT CAST(day AS VARCHAR)
FROM sealed_days
WHERE day >= CAST($1 AS DATE)
  AND day NOT IN (SELECT day FROM exact_pairs_days)
ORDER BY 1;
