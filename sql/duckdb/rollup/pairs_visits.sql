-- The visits that began on day $1, whole, for the exact pair count (store/pairs.rs):
-- per visit its visitor (or itself where there is none), sums and the 16 visit
-- properties in the order pairs.rs numbers them.
SELECT site, vkey, skey, pageviews, custom, duration_s,
    browser, channel, connection_type, country, device, entry_page, exit_page, os,
    referrer, screen, source, utm_campaign, utm_content, utm_medium, utm_source, utm_term
FROM rollup_visits(CAST($1 AS DATE), CAST($1 AS DATE), true)
