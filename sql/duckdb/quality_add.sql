-- Adds $4 dropped hits of site $1 on day $2 for reason $3.
INSERT INTO quality_daily VALUES ($1, CAST($2 AS DATE), $3, $4)
ON CONFLICT (site, day, reason) DO UPDATE SET hits = hits + excluded.hits;
