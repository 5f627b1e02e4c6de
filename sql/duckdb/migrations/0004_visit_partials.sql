-- Visit partials: the Stats API's own answers for the whole visits of each ended
-- day, kept so that a query over many days reads a few thousand rows instead of
-- grouping millions of events (src/rollup/partials.rs writes them, src/query/
-- partials.rs reads them). They are derived from pseudonymous events, hold no
-- visitor or session id, and expire with the events they came from.

-- The UTC day each visit began: the day of the salt behind its visitor id. A visit
-- crossing midnight keeps its first day on every event.
ALTER TABLE events ADD COLUMN visit_day DATE;
UPDATE events SET visit_day = first.day
FROM (
    SELECT session_id, CAST(min(ts) AS DATE) AS day
    FROM events
    WHERE session_id IS NOT NULL
    GROUP BY session_id
) AS first
WHERE events.session_id = first.session_id;
UPDATE events SET visit_day = CAST(ts AS DATE) WHERE visit_day IS NULL;

-- One row per site × visit day × property value (bucket NULL), and per day the
-- visits' events fall on (bucket = that day; visit metrics on the day of a visit's
-- first counted event). Columns are the additive sums the query engine combines.
CREATE TABLE visit_partials (
    site              VARCHAR NOT NULL,
    visit_day         DATE    NOT NULL,
    bucket            DATE,
    property          VARCHAR NOT NULL,  -- a Stats API property; '' for the totals
    value             VARCHAR,           -- its label as the API gives it
    visitors          BIGINT  NOT NULL,
    visits            BIGINT  NOT NULL,
    pageviews         BIGINT  NOT NULL,
    events            BIGINT  NOT NULL,
    sessions          BIGINT  NOT NULL,  -- visits, for the visit metrics
    bounces           BIGINT  NOT NULL,
    duration_s        BIGINT  NOT NULL,
    session_pageviews BIGINT  NOT NULL
);

-- Visit days whose visits have all ended and whose partials are written; last_day
-- is the day of the latest event of those visits (the day after, for a visit
-- crossing midnight).
CREATE TABLE sealed_days (
    day      DATE PRIMARY KEY,
    last_day DATE NOT NULL
);
