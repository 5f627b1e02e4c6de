-- How many days from $1 to before $2 are rolled up or sealed: none, unless the
-- clock went back.
SELECT
    (SELECT count(*) FROM rolled_up_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE))
    + (SELECT count(*) FROM sealed_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE));
