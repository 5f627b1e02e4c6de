INSERT INTO salts (day, salt) VALUES (CAST(? AS DATE), ?);
