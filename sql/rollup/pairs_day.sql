-- Rolls one ended day ($1) up into daily_pairs, with minimum crowd size $2.
-- The shape lives in pairs_macro.sql.
INSERT INTO daily_pairs
SELECT * FROM pair_rows(CAST($1 AS DATE), CAST($1 AS DATE), $2);
