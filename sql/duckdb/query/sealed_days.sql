-- Sealed visit days in [$1, $2), the day of their visits' last event, whether their
-- partials are stored, whether their daily pairs are exact and whether those have
-- their pages' and their event names' own rows, in order.
SELECT CAST(day AS VARCHAR), CAST(last_day AS VARCHAR), partials,
    day IN (SELECT day FROM exact_pairs_days) AS pairs,
    day IN (SELECT day FROM page_visit_days) AS page_visits,
    day IN (SELECT day FROM name_visit_days) AS name_visits
FROM sealed_days
WHERE day >= CAST($1 AS DATE) AND day < CAST($2 AS DATE)
ORDER BY day;
