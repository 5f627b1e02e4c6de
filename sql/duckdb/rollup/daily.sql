-- Rolls one ended day ($1) up into daily_aggregates, with minimum crowd size $2.
-- The shape lives in rows_macro.sql.
INSERT INTO daily_aggregates
SELECT * FROM rollup_rows(CAST($1 AS DATE), CAST($1 AS DATE), $2);
