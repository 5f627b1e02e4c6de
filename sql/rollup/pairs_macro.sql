-- The pair roll-up (rollup/pairs_day.sql): per site × day, every cell of two
-- properties (visit × visit, event × visit, event × event) with the sums
-- daily_aggregates keeps, over the visits of visits_macro.sql. Each cell appears in
-- both orders; in each order, cells under the minimum crowd size `k` are folded
-- into (value, '(other)'), and a folded row still under `k` is dropped, so no row
-- names a value fewer than k visitors share. The store writes a sealed visit day's
-- pairs exact (`k` = 1, whole visits by the day they began) and folds them when the
-- day's events expire (retention/pairs_fold_*.sql).
--
-- The properties are those daily_aggregates answers for (not the browser and OS
-- versions). Visitors are distinct per cell, counted without a distinct count
-- where a visitor's visits agree: if all of them share one property's value, the
-- visitor counts once in each cell of that value, at its first visit with the
-- other value (`first`, `same`, as bit masks per visit in `w`). Only the cells of
-- two properties that both change between a visitor's visits need the distinct
-- count (`*_multi`). Values are numbered per day (`dict`) so all of this groups
-- integers.
CREATE OR REPLACE MACRO pair_rows(first_day, last_day, k, by_visit) AS TABLE
WITH visits AS (
    FROM rollup_visits(first_day, last_day, by_visit)
),
long AS (
    UNPIVOT (SELECT * EXCLUDE (browser_version, os_version) FROM visits)
    ON source, channel, referrer, utm_source, utm_medium, utm_campaign, utm_content,
       utm_term, country, device, browser, os, screen, connection_type, entry_page,
       exit_page
    INTO NAME dimension VALUE value
),
ev AS (
    -- Per visit and event value: its pageviews and events.
    SELECT site, day, skey, dimension, value,
        count(*) FILTER (WHERE name = 'pageview') AS pageviews,
        count(*)                                  AS events
    FROM rollup_event_values(first_day, last_day, by_visit)
    GROUP BY ALL
),
dict AS (
    SELECT site, day, dimension, value, CAST(row_number() OVER () AS BIGINT) AS id
    FROM (
        SELECT DISTINCT site, day, dimension, value FROM long
        UNION
        SELECT DISTINCT site, day, dimension, value FROM ev
    )
),
lf AS (
    -- Per visit and visit property: its value's number, its bit in the masks, whether
    -- this is the visitor's first visit with the value, whether all its visits share it.
    SELECT l.site, l.day, l.skey, l.vkey, d.id, dp.pos,
        row_number() OVER (PARTITION BY l.site, l.day, l.vkey, d.id ORDER BY l.skey) = 1 AS first,
        min(d.id) OVER (PARTITION BY l.site, l.day, l.vkey, dp.pos)
            = max(d.id) OVER (PARTITION BY l.site, l.day, l.vkey, dp.pos) AS same
    FROM long l
    JOIN dict d USING (site, day, dimension, value)
    JOIN (VALUES ('browser', 0), ('channel', 1), ('connection_type', 2), ('country', 3), ('device', 4), ('entry_page', 5), ('exit_page', 6), ('os', 7), ('referrer', 8), ('screen', 9), ('source', 10), ('utm_campaign', 11), ('utm_content', 12), ('utm_medium', 13), ('utm_source', 14), ('utm_term', 15)) dp(dimension, pos) USING (dimension)
),
w AS (
    SELECT v.site, v.day, v.skey, v.vkey, v.pageviews, v.custom, v.duration_s,
        list(lf.id ORDER BY lf.pos) AS ids,
        CAST(sum(CAST(lf.first AS BIGINT) << lf.pos) AS BIGINT) AS firsts,
        CAST(sum(CAST(lf.same AS BIGINT) << lf.pos) AS BIGINT) AS sames
    FROM visits v
    JOIN lf USING (site, day, skey)
    GROUP BY v.site, v.day, v.skey, v.vkey, v.pageviews, v.custom, v.duration_s
),
pos AS (
    SELECT i, j FROM range(1, 17) a(i), range(1, 17) b(j) WHERE i < j
),
vv AS (
    SELECT site, day, ids[i] AS a, ids[j] AS b,
        count(*) FILTER (WHERE ((sames >> (i - 1)) & 1 = 1 AND (firsts >> (j - 1)) & 1 = 1)
            OR ((sames >> (j - 1)) & 1 = 1 AND (firsts >> (i - 1)) & 1 = 1)) AS single,
        count(*)                                              AS visits,
        sum(pageviews)                                        AS pageviews,
        count(*) FILTER (WHERE pageviews <= 1 AND custom = 0) AS bounces,
        sum(duration_s)                                       AS duration_s,
        sum(pageviews + custom)                               AS events
    FROM w, pos
    GROUP BY ALL
),
vv_multi AS (
    SELECT site, day, ids[i] AS a, ids[j] AS b, count(DISTINCT vkey) AS multi
    FROM w, pos
    WHERE (sames >> (i - 1)) & 1 = 0 AND (sames >> (j - 1)) & 1 = 0
    GROUP BY ALL
),
evw AS (
    -- Per visit, event value and visit property: whether the visitor's visits share
    -- the property's value, and whether this is its first visit with the event value.
    SELECT e.site, e.day, e.a, w.ids[p.i] AS b, w.vkey,
        (w.sames >> (p.i - 1)) & 1 = 1 AS same, e.first, e.pageviews, e.events
    FROM (
        SELECT ev.*, d.id AS a,
            row_number() OVER (PARTITION BY ev.site, ev.day, w0.vkey, d.id ORDER BY ev.skey) = 1 AS first
        FROM ev
        JOIN dict d USING (site, day, dimension, value)
        JOIN visits w0 USING (site, day, skey)
    ) e
    JOIN w USING (site, day, skey), range(1, 17) p(i)
),
evv AS (
    SELECT site, day, a, b,
        count(*) FILTER (WHERE same AND first) AS single,
        count(*)                         AS visits,
        sum(pageviews)                   AS pageviews,
        0                                AS bounces,
        0                                AS duration_s,
        sum(events)                      AS events
    FROM evw
    GROUP BY ALL
),
evv_multi AS (
    SELECT site, day, a, b, count(DISTINCT vkey) AS multi
    FROM evw
    WHERE NOT same
    GROUP BY ALL
),
half AS (
    SELECT vv.site, vv.day, vv.a, vv.b, vv.single + coalesce(m.multi, 0) AS visitors,
        visits, pageviews, bounces, duration_s, events
    FROM vv LEFT JOIN vv_multi m USING (site, day, a, b)
    UNION ALL
    SELECT evv.site, evv.day, evv.a, evv.b, evv.single + coalesce(m.multi, 0),
        visits, pageviews, bounces, duration_s, events
    FROM evv LEFT JOIN evv_multi m USING (site, day, a, b)
),
named AS (
    SELECT h.site, h.day, da.dimension, da.value, db.dimension AS dimension2, db.value AS value2,
        visitors, visits, pageviews, bounces, duration_s, events
    FROM half h
    JOIN dict da ON da.id = h.a
    JOIN dict db ON db.id = h.b
    UNION ALL
    -- Event value × event value: both are the same event's.
    SELECT site, day, da, a, db, b,
        count(DISTINCT vkey), count(DISTINCT skey), count(*) FILTER (WHERE name = 'pageview'),
        0, 0, count(*)
    FROM rollup_counted(first_day, last_day, by_visit), LATERAL (VALUES
        ('page', pathname, 'hostname', hostname),
        ('page', pathname, 'name', name),
        ('hostname', hostname, 'name', name)
    ) x(da, a, db, b)
    WHERE name <> 'engagement'
    GROUP BY ALL
),
cells AS (
    SELECT * FROM named
    UNION ALL
    SELECT site, day, dimension2, value2, dimension, value,
        visitors, visits, pageviews, bounces, duration_s, events
    FROM named
),
folded AS (
    SELECT site, day, dimension, value, dimension2,
        CASE WHEN visitors < k THEN '(other)' ELSE value2 END AS value2,
        sum(visitors) AS visitors, sum(visits) AS visits, sum(pageviews) AS pageviews,
        sum(bounces) AS bounces, sum(duration_s) AS duration_s, sum(events) AS events
    FROM cells
    GROUP BY ALL
)
SELECT
    site, day, dimension, value, dimension2, value2,
    CAST(visitors AS BIGINT)   AS visitors,
    CAST(visits AS BIGINT)     AS visits,
    CAST(pageviews AS BIGINT)  AS pageviews,
    CAST(bounces AS BIGINT)    AS bounces,
    CAST(duration_s AS BIGINT) AS duration_s,
    CAST(events AS BIGINT)     AS events
FROM folded
WHERE visitors >= k;
