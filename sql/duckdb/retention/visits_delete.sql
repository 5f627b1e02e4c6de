-- Expires stored visits with the events they came from (before $1).
DELETE FROM visits WHERE visit_day < CAST($1 AS DATE);
