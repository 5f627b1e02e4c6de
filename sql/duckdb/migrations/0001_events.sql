-- Events: one row per accepted hit. No column can hold an IP address, a User-Agent
-- or a full URL; visitor_id is a 64-bit keyed hash under a salt destroyed daily.
CREATE TABLE events (
    ts              TIMESTAMP NOT NULL,  -- UTC
    site            VARCHAR   NOT NULL,
    name            VARCHAR   NOT NULL,  -- 'pageview', 'engagement' or a custom event
    hostname        VARCHAR   NOT NULL,
    pathname        VARCHAR   NOT NULL,
    visitor_id      UBIGINT,             -- NULL under a privacy signal
    session_id      UBIGINT,
    referrer        VARCHAR,             -- host/path only
    source          VARCHAR,
    channel         VARCHAR   NOT NULL,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    utm_content     VARCHAR,
    utm_term        VARCHAR,
    country         VARCHAR,             -- ISO 3166-1 alpha-2
    region          VARCHAR,             -- only when configured
    city            VARCHAR,             -- only when configured
    browser         VARCHAR   NOT NULL,
    browser_version VARCHAR   NOT NULL,  -- major only
    os              VARCHAR   NOT NULL,
    os_version      VARCHAR   NOT NULL,
    device          VARCHAR   NOT NULL,  -- desktop | mobile | tablet | other
    screen          VARCHAR,             -- size class, not the width
    connection_type VARCHAR,
    save_data       BOOLEAN   NOT NULL,
    props           VARCHAR,             -- JSON object of strings
    scroll_depth    UTINYINT,            -- engagement events, percent
    engaged_ms      UINTEGER,            -- engagement events
    interactive     BOOLEAN   NOT NULL
);

-- Daily salts: today's, and yesterday's for the session timeout after midnight.
-- When one is destroyed the store compacts the file (sql/duckdb/compact.sql), because a
-- DELETE alone leaves the old bytes in it.
CREATE TABLE salts (
    day  DATE NOT NULL,
    salt BLOB NOT NULL
);
