-- Anonymous daily aggregates: one row per site × day × dimension value. No visitor
-- id, no session id. Because the salt rotates daily, visitors are per-day anyway, so
-- these rows add up across days. Rows under the crowd-size threshold are folded
-- into the value '(other)' when they are written.
CREATE TABLE daily_aggregates (
    site        VARCHAR NOT NULL,
    day         DATE    NOT NULL,
    dimension   VARCHAR NOT NULL,  -- 'total', 'page', 'source', 'country', ...
    value       VARCHAR NOT NULL,  -- '' for 'total'; '(none)' for a missing value
    visitors    BIGINT  NOT NULL,
    visits      BIGINT  NOT NULL,
    pageviews   BIGINT  NOT NULL,
    bounces     BIGINT  NOT NULL,  -- visits with one pageview and no custom event
    duration_s  BIGINT  NOT NULL,  -- summed visit duration
    events      BIGINT  NOT NULL   -- pageviews and custom events (not engagement)
);

-- Days already rolled up (each day once, after it has ended).
CREATE TABLE rolled_up_days (
    day DATE PRIMARY KEY
);
