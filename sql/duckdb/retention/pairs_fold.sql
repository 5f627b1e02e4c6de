-- Folds the exact pairs of the days before $1, whose events expire now, to the
-- minimum crowd size $2: in each order, a cell under $2
-- visitors joins its filter value's (value, '(other)') row, and a row still under
-- $2 is not kept. One transaction, statement by statement
INSERT INTO pairs_folding
SELECT site, day, dimension, value, dimension2,
    CASE WHEN visitors < $2 THEN '(other)' ELSE value2 END AS value2,
    sum(visitors), sum(visits), sum(pageviews), sum(bounces), sum(duration_s), sum(events)
FROM daily_pairs
WHERE day IN (SELECT day FROM exact_pairs_days WHERE day < CAST($1 AS DATE))
GROUP BY ALL
HAVING sum(visitors) >= $2;
DELETE FROM daily_pairs
WHERE day IN (SELECT day FROM exact_pairs_days WHERE day < CAST($1 AS DATE));
INSERT INTO daily_pairs
SELECT * FROM pairs_folding ORDER BY day, dimension, value, dimension2, value2;
DELETE FROM pairs_folding;
DELETE FROM exact_pairs_days WHERE day < CAST($1 AS DATE);
DELETE FROM page_visit_days WHERE day < CAST($1 AS DATE);
DELETE FROM name_visit_days WHERE day < CAST($1 AS DATE)
