-- The exact pairs of sealed visit day $1 (pairs_macro.sql): whole visits by the day
-- they began, no cell folded. They replace whatever pairs the day had.
DELETE FROM daily_pairs WHERE day = CAST($1 AS DATE);
INSERT INTO daily_pairs
SELECT * FROM pair_rows(CAST($1 AS DATE), CAST($1 AS DATE), 1, true);
INSERT OR IGNORE INTO paired_days (day) VALUES (CAST($1 AS DATE));
INSERT OR IGNORE INTO exact_pairs_days (day) VALUES (CAST($1 AS DATE))
