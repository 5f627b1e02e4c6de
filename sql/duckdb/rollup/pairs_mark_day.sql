-- Visit day $1 has its exact pairs (migration 0013) with its pages' and event
-- names' own rows (migrations 0014, 0015): folded when its events expire.
INSERT OR IGNORE INTO paired_days (day) VALUES (CAST($1 AS DATE));
INSERT OR IGNORE INTO exact_pairs_days (day) VALUES (CAST($1 AS DATE));
INSERT OR IGNORE INTO page_visit_days (day) VALUES (CAST($1 AS DATE));
INSERT OR IGNORE INTO name_visit_days (day) VALUES (CAST($1 AS DATE))
