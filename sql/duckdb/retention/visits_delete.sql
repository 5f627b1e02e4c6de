-- Expires stored visits with the events they came from (before $1, or from $2 on).
DELETE FROM visits WHERE visit_day < CAST($1 AS DATE) OR visit_day >= CAST($2 AS DATE);
