-- Marks visit day $1 sealed with its visits stored, its visits' last event on day
-- $2; its partials follow (seal_day.sql).
INSERT OR REPLACE INTO sealed_days (day, last_day, partials)
VALUES (CAST($1 AS DATE), CAST($2 AS DATE), false);
