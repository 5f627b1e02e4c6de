-- Expires visit partials with the events they came from (before $1).
DELETE FROM visit_partials WHERE visit_day < CAST($1 AS DATE);
