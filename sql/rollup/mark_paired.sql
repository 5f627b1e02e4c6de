INSERT INTO paired_days (day) VALUES (CAST($1 AS DATE));
