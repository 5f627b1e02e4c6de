-- Per visit that began on day $1, each page it has any event on (engagement too), for
-- the page's own row in the exact pairs (store/pairs.rs): the visit figures of a view
-- filtered by that page.
SELECT site, skey, pathname
FROM rollup_counted(CAST($1 AS DATE), CAST($1 AS DATE), true)
WHERE pathname IS NOT NULL
GROUP BY ALL
