-- Benchmark data (benches/queries.rs, benches/dashboard.rs): $1 events for one site over the 30 UTC days
-- from 2026-01-01, generated in one statement. Deterministic (hash of the row
-- number), shaped like real traffic:
-- - sessions of 1–6 events (mostly 1–2), starting uniformly over the 30 days, one
--   event every 20–140 s; ~2.1M visitor ids (new ones each day, as under the
--   daily salt); 0.5 % of sessions without a pseudonym
--   (privacy signal);
-- - the first event of a session is a pageview; later ones are pageviews (≈ 75 %),
--   engagement events for the page before (≈ 18 %) or custom events (≈ 7 %);
-- - pages Zipf-distributed (P(rank) ∝ 1/rank) over 2,000 paths;
-- - source/channel per session; country (Zipf over 30 codes), device, browser and
--   OS per visitor, with skewed frequencies, as real pseudonyms (a hash of the IP
--   address and User-Agent) give them; one session in 20 reports another OS
--   version, as a browser's Client Hints can;
-- - stored in the order of time, as the collector's writer appends them (DuckDB
--   skips row groups by their min/max, which a store in random order defeats).
INSERT INTO events
WITH slots AS (
    -- Six slots per session; a session of length len keeps its first len slots.
    SELECT i, i // 6 AS sid, i % 6 AS pos, hash(i // 6) AS h, hash(i) AS r, hash(i - 1) AS rp
    FROM range(CAST($1 AS BIGINT) * 3) AS t(i)
),
visitors AS (
    -- The visitor's own draws (the pseudonym below is made of the same numbers).
    SELECT *, hash((h >> 24) % 70000, ((h >> 8) % (30 * 86400)) // 86400, 'draws') AS vh
    FROM slots
),
sessions AS (
    SELECT
        *,
        CASE
            WHEN h % 100 < 40 THEN 1 WHEN h % 100 < 65 THEN 2 WHEN h % 100 < 80 THEN 3
            WHEN h % 100 < 90 THEN 4 WHEN h % 100 < 96 THEN 5 ELSE 6
        END AS len,
        ((h >> 7) % 1000) / 1000.0 AS u_source,
        ((vh >> 17) % 1000) / 1000.0 AS u_country,
        ((vh >> 27) % 1000) / 1000.0 AS u_device,
        ((vh >> 37) % 1000) / 1000.0 AS u_browser,
        ((vh >> 47) % 1000) / 1000.0 AS u_os,
        (r % 100) AS u_name,
        ((r >> 7) % 1000000) / 1000000.0 AS u_page,
        ((rp >> 7) % 1000000) / 1000000.0 AS u_prev_page
    FROM visitors
),
kept AS (
    SELECT
        *,
        CASE
            WHEN pos = 0 OR u_name < 75 THEN 'pageview'
            WHEN u_name < 93 THEN 'engagement'
            WHEN u_name < 96 THEN 'Signup'
            WHEN u_name < 98 THEN 'Download'
            ELSE 'Outbound Link: Click'
        END AS name,
        least(2000, CAST(floor(pow(2000, u_page)) AS INTEGER)) AS page_rank,
        least(2000, CAST(floor(pow(2000, u_prev_page)) AS INTEGER)) AS prev_rank,
        least(30, CAST(floor(pow(30, u_country)) AS INTEGER)) AS country_rank,
        CASE
            WHEN u_source < 0.40 THEN 0 WHEN u_source < 0.70 THEN 1 WHEN u_source < 0.76 THEN 2
            WHEN u_source < 0.80 THEN 3 WHEN u_source < 0.86 THEN 4 WHEN u_source < 0.90 THEN 5
            WHEN u_source < 0.93 THEN 6 WHEN u_source < 0.95 THEN 7 ELSE 8
        END AS src,
        CASE
            WHEN u_device < 0.55 THEN 'Mobile' WHEN u_device < 0.95 THEN 'Desktop'
            WHEN u_device < 0.99 THEN 'Tablet' ELSE 'Other'
        END AS device
    FROM sessions
    WHERE pos < len
    LIMIT CAST($1 AS BIGINT)
)
SELECT
    TIMESTAMP '2026-01-01' + to_seconds(CAST((h >> 8) % (30 * 86400) AS BIGINT))
        + to_seconds(CAST(pos * (20 + (h >> 40) % 120) AS BIGINT))              AS ts,
    'example.test'                                                            AS site,
    name,
    'example.test'                                                            AS hostname,
    CASE
        WHEN (CASE WHEN name = 'engagement' THEN prev_rank ELSE page_rank END) = 1 THEN '/'
        ELSE '/' || ['blog', 'docs', 'product', 'help', 'news'][(CASE WHEN name = 'engagement' THEN prev_rank ELSE page_rank END) % 5 + 1]
            || '/article-' || CAST((CASE WHEN name = 'engagement' THEN prev_rank ELSE page_rank END) AS VARCHAR)
    END                                                                       AS pathname,
    -- The pseudonym's salt rotates daily: a person gets a new id each day. 70,000
    -- people a day (≈ 2.1M ids over the 30 days), most with one session a day.
    CASE WHEN h % 200 = 7 THEN NULL
         ELSE hash((h >> 24) % 70000, ((h >> 8) % (30 * 86400)) // 86400, 'visitor')
    END                                                                       AS visitor_id,
    -- A privacy-signal hit is a visit of its own, under an id drawn for it alone.
    CASE WHEN h % 200 = 7 THEN hash(i, 'lone') ELSE hash(sid, 'session') END  AS session_id,
    nullif(['', 'www.google.com', 'www.bing.com', 'duckduckgo.com', 'm.facebook.com', 't.co',
            '', 'www.google.com', 'blog' || CAST((h >> 50) % 300 AS VARCHAR) || '.example'][src + 1],
           '')                                                                AS referrer,
    nullif(['', 'Google', 'Bing', 'DuckDuckGo', 'Facebook', 'Twitter', 'newsletter', 'Google',
            'blog' || CAST((h >> 50) % 300 AS VARCHAR) || '.example'][src + 1],
           '')                                                                AS source,
    ['Direct', 'Organic Search', 'Organic Search', 'Organic Search', 'Organic Social',
     'Organic Social', 'Email', 'Paid Search', 'Referral'][src + 1]           AS channel,
    CASE src WHEN 6 THEN 'newsletter' WHEN 7 THEN 'google' END                AS utm_source,
    CASE src WHEN 6 THEN 'email' WHEN 7 THEN 'cpc' END                        AS utm_medium,
    CASE src WHEN 6 THEN 'weekly-' || CAST((h >> 30) % 4 AS VARCHAR) WHEN 7 THEN 'brand' END AS utm_campaign,
    NULL                                                                      AS utm_content,
    NULL                                                                      AS utm_term,
    CASE WHEN vh % 100 = 3 THEN NULL ELSE
        ['US', 'DE', 'GB', 'NL', 'FR', 'IN', 'CA', 'BR', 'ES', 'IT', 'PL', 'SE', 'AU', 'JP', 'BE',
         'CH', 'AT', 'DK', 'NO', 'FI', 'IE', 'PT', 'CZ', 'MX', 'AR', 'ZA', 'NG', 'KR', 'TR', 'UA'][country_rank]
    END                                                                       AS country,
    NULL                                                                      AS region,
    NULL                                                                      AS city,
    CASE
        WHEN u_browser < 0.60 THEN 'Chrome' WHEN u_browser < 0.82 THEN 'Safari'
        WHEN u_browser < 0.89 THEN 'Firefox' WHEN u_browser < 0.95 THEN 'Edge'
        WHEN u_browser < 0.98 THEN 'Samsung Internet' ELSE 'Opera'
    END                                                                       AS browser,
    CAST(120 + (vh >> 3) % 12 AS VARCHAR)                                     AS browser_version,
    CASE
        WHEN device IN ('Mobile', 'Tablet') THEN CASE WHEN u_os < 0.6 THEN 'Android' ELSE 'iOS' END
        WHEN u_os < 0.65 THEN 'Windows' WHEN u_os < 0.90 THEN 'Mac' ELSE 'GNU/Linux'
    END                                                                       AS os,
    CAST(10 + (CASE WHEN h % 20 = 1 THEN h >> 43 ELSE vh >> 11 END) % 8 AS VARCHAR) AS os_version,
    device,
    CASE device
        WHEN 'Mobile' THEN 'Mobile' WHEN 'Tablet' THEN 'Tablet'
        WHEN 'Desktop' THEN CASE WHEN u_os < 0.5 THEN 'Laptop' ELSE 'Desktop' END
    END                                                                       AS screen,
    NULL                                                                      AS connection_type,
    false                                                                     AS save_data,
    CASE name WHEN 'Signup' THEN '{"plan":"' || ['free', 'pro', 'team'][CAST(r % 3 AS INTEGER) + 1] || '"}' END AS props,
    CASE WHEN name = 'engagement' THEN CAST(r % 101 AS UTINYINT) END          AS scroll_depth,
    CASE WHEN name = 'engagement' THEN CAST((r >> 8) % 120000 AS UINTEGER) END AS engaged_ms,
    name <> 'engagement'                                                      AS interactive,
    -- The visit's first day (the salt's day); an event without a pseudonym is a
    -- visit of its own.
    CAST(TIMESTAMP '2026-01-01' + to_seconds(CAST((h >> 8) % (30 * 86400) AS BIGINT))
        + to_seconds(CAST(CASE WHEN h % 200 = 7 THEN pos * (20 + (h >> 40) % 120) ELSE 0 END AS BIGINT))
        AS DATE)                                                              AS visit_day
FROM kept
-- In the order of time, as the collector appends them.
ORDER BY ts;
