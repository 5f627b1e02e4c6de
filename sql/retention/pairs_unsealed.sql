-- The pairs of visit day $1, whose events expire without the day having been
-- sealed, folded at once to the minimum crowd size $2 (pairs_macro.sql)
INSERT INTO daily_pairs
SELECT * FROM pair_rows(CAST($1 AS DATE), CAST($1 AS DATE), $2, true)
ORDER BY dimension, value, dimension2, value2;
INSERT OR IGNORE INTO paired_days (day) VALUES (CAST($1 AS DATE))
