-- Hits dropped for site $1 from day $2 to day $3 (UTC, inclusive), by reason.
SELECT reason, CAST(sum(hits) AS BIGINT)
FROM quality_daily
WHERE site = $1 AND day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
GROUP BY reason
ORDER BY reason;
