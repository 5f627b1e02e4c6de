-- The first day with data for a site (for date_range "all"), µs since the epoch: the
-- first stored event, or the first daily aggregate when older events have expired.
WITH e AS (SELECT min(ts) AS t FROM events WHERE site = $1),
     a AS (SELECT CAST(min(day) AS TIMESTAMP) AS t FROM daily_aggregates WHERE site = $1)
SELECT epoch_us(least(coalesce(e.t, a.t), coalesce(a.t, e.t))) FROM e, a;
