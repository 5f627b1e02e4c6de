-- Rows $3 .. $3 + $2 of the events of UTC day $1, in a fixed order (time, then the
-- order they were stored in), every column as the store keeps it.
SELECT epoch_us(ts), site, name, hostname, pathname, visitor_id, session_id,
    CAST(date_diff('day', DATE '1970-01-01', coalesce(visit_day, CAST(ts AS DATE))) AS INTEGER),
    referrer, source, channel, utm_source, utm_medium, utm_campaign, utm_content,
    utm_term, country, region, city, browser, browser_version, os, os_version, device,
    screen, connection_type, save_data, props, scroll_depth, engaged_ms, interactive
FROM events
WHERE ts >= CAST($1 AS DATE) AND ts < CAST($1 AS DATE) + INTERVAL 1 DAY
ORDER BY ts, rowid
LIMIT $2 OFFSET $3
