-- Marks visit day $1 sealed with its partials stored, its visits' last event on day
-- $2 (src/rollup/partials.rs).
INSERT OR REPLACE INTO sealed_days (day, last_day, partials)
VALUES (CAST($1 AS DATE), CAST($2 AS DATE), true);
