-- Data-quality counts older than the aggregate retention ($1).
DELETE FROM quality_daily WHERE day < CAST($1 AS DATE);
