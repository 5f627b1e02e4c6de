-- Visits: one row per visit (session) of a sealed visit day, with the attributes of
-- its first event and its sums, so that stats queries read a visit once instead of
-- grouping its events again on every query (src/query/plan.rs, visits_cte.sql).
-- Pseudonymous like the events it is derived from (visitor and session id), so it
-- expires with them. Events without a session (privacy-signal hits) are not here:
-- each is a visit of its own, answered from the events.
CREATE TABLE visits (
    site            VARCHAR   NOT NULL,
    visit_day       DATE      NOT NULL,  -- the day the visit began (its salt's day)
    session_id      UBIGINT   NOT NULL,
    visitor_id      UBIGINT,             -- NULL only if the session's events had none
    started         TIMESTAMP,           -- first event other than engagement, UTC
    events          BIGINT    NOT NULL,  -- pageviews and custom events
    pageviews       BIGINT    NOT NULL,
    duration_s      BIGINT    NOT NULL,  -- first to last event
    bounce          BOOLEAN   NOT NULL,  -- one pageview at most, no custom event
    entry_page      VARCHAR,
    exit_page       VARCHAR,
    referrer        VARCHAR,
    source          VARCHAR,
    channel         VARCHAR,
    utm_source      VARCHAR,
    utm_medium      VARCHAR,
    utm_campaign    VARCHAR,
    utm_content     VARCHAR,
    utm_term        VARCHAR,
    country         VARCHAR,
    device          VARCHAR,
    browser         VARCHAR,
    browser_version VARCHAR,
    os              VARCHAR,
    os_version      VARCHAR,
    screen          VARCHAR,
    connection_type VARCHAR
);

-- A sealed day's visits are stored first, its partials after (`partials`): queries
-- read the stored visits of a day as soon as they are there.
ALTER TABLE sealed_days ADD COLUMN partials BOOLEAN NOT NULL DEFAULT false;

-- Days sealed before this table existed have no visits in it: seal them again.
DELETE FROM visit_partials;
DELETE FROM sealed_days;
