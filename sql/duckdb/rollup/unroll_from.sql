-- After the clock went back: days from $1 (today, as the clock now shows) to before
-- $2 have not ended after all, so what was rolled up or sealed for them is taken
-- back and done again once they end, with the events they still receive. Later
-- days (stamped while the clock ran further ahead) are retired as if expired
-- instead (retention/*.sql), keeping their aggregates.
DELETE FROM daily_aggregates WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM daily_pairs WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM rolled_up_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM paired_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM visit_partials WHERE visit_day >= CAST($1 AS DATE) AND visit_day < CAST($2 AS DATE);
DELETE FROM visits WHERE visit_day >= CAST($1 AS DATE) AND visit_day < CAST($2 AS DATE);
DELETE FROM sealed_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM exact_pairs_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM page_visit_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
DELETE FROM name_visit_days WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE);
