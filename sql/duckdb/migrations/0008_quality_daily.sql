-- Hits dropped per site, UTC day and reason (bot, spam_referrer, prefetch,
-- privacy_signal, overload, store_error): anonymous counts for the dashboard's data
-- quality, kept as long as the daily aggregates.
CREATE TABLE quality_daily (
    site   VARCHAR NOT NULL,
    day    DATE    NOT NULL,
    reason VARCHAR NOT NULL,
    hits   BIGINT  NOT NULL,
    PRIMARY KEY (site, day, reason)
);
