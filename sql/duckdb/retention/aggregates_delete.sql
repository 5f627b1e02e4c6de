-- Expires anonymous aggregates before $1 (the file is compacted afterwards).
DELETE FROM daily_aggregates WHERE day < CAST($1 AS DATE);
