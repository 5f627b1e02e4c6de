-- Expires anonymous pairs before $1, with the aggregates (the file is compacted
-- afterwards).
DELETE FROM daily_pairs WHERE day < CAST($1 AS DATE);
