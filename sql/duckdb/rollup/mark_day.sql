INSERT INTO rolled_up_days (day) VALUES (CAST($1 AS DATE));
