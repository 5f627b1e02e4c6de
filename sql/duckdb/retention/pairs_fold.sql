-- Folds the exact pairs of the days before $1, whose events expire now, and of
-- those from $2 on (stamped ahead of the clock), to the minimum crowd size $3. A
-- cell of $3 visitors or more is kept as it is. In each order, a cell under $3 joins its filter value's (value, '(other)') row, whose
-- visitors are the distinct visitors of the cells it took (pairs_fold_visitors,
-- counted from the day's visits just before: one visitor can be in many cells). A
-- row under $3 visitors is not kept. One transaction, statement by statement.
INSERT INTO pairs_folding
SELECT site, day, dimension, value, dimension2, value2,
    visitors, visits, pageviews, bounces, duration_s, events
FROM daily_pairs
WHERE day IN (SELECT day FROM exact_pairs_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE))
  AND visitors >= $3;
INSERT INTO pairs_folding
SELECT p.site, p.day, p.dimension, p.value, p.dimension2, '(other)',
    any_value(f.visitors), sum(p.visits), sum(p.pageviews), sum(p.bounces),
    sum(p.duration_s), sum(p.events)
FROM daily_pairs AS p
JOIN pairs_fold_visitors AS f
  ON f.site = p.site AND f.day = p.day AND f.dimension = p.dimension
 AND f.value = p.value AND f.dimension2 = p.dimension2
WHERE p.day IN (SELECT day FROM exact_pairs_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE))
  AND p.visitors < $3
GROUP BY p.site, p.day, p.dimension, p.value, p.dimension2
HAVING any_value(f.visitors) >= $3;
DELETE FROM pairs_fold_visitors;
DELETE FROM daily_pairs
WHERE day IN (SELECT day FROM exact_pairs_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE));
INSERT INTO daily_pairs
SELECT * FROM pairs_folding ORDER BY day, dimension, value, dimension2, value2;
DELETE FROM pairs_folding;
DELETE FROM exact_pairs_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE);
DELETE FROM page_visit_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE);
DELETE FROM name_visit_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE)
