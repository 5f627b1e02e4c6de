-- Sums over visit partials, for the sealed days a Stats API query reads whole
-- (src/query/partials.rs renders it). Braced placeholders take only fixed fragments
-- from partials.rs; every value is a bound parameter: $1 site, $2 first and $3 last
-- visit day, $4 the property ('' for totals), $5… filter values. The columns are
-- those of aggregates.sql, so one reader serves both.
SELECT
    {bucket} AS bucket,
    {label}  AS label,
    CAST(sum(visitors) AS BIGINT),
    CAST(sum(visits) AS BIGINT),
    CAST(sum(pageviews) AS BIGINT),
    CAST(sum(events) AS BIGINT),
    CAST(sum(sessions) AS BIGINT),
    CAST(sum(bounces) AS BIGINT),
    CAST(sum(duration_s) AS BIGINT),
    CAST(sum(session_pageviews) AS BIGINT)
FROM visit_partials
WHERE site = $1
  AND visit_day BETWEEN CAST($2 AS DATE) AND CAST($3 AS DATE)
  AND property = $4
  AND {rows}
  AND {values}
GROUP BY ALL
ORDER BY 1, 2;
