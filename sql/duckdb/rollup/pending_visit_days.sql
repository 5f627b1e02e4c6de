-- Visit days after the last sealed one and before $2 (and not before $1), per site,
-- with the time of their visits' latest event (µs): the roll-up seals a day once
-- its visits have all ended.
SELECT CAST(visit_day AS VARCHAR), site, CAST(epoch_us(max(ts)) AS BIGINT)
FROM events
WHERE visit_day >= CAST($1 AS DATE) AND visit_day < CAST($2 AS DATE)
  AND visit_day > coalesce((SELECT max(day) FROM sealed_days), DATE '0001-01-01')
GROUP BY ALL
ORDER BY 1, 2;
