-- Anonymous daily pairs: per site × UTC day × (property value, other property's
-- value), the same sums as daily_aggregates, so a query before the event retention
-- can filter by one property and break down by another. No visitor or session id.
-- A row names two values and holds at least the minimum crowd size of visitors:
-- smaller cells are folded into (value, '(other)'), and such a row that is still too
-- small is not kept. Every cell is stored in both orders, each folded for its use
-- (`dimension`/`value` the filter, `dimension2`/`value2` the breakdown).
CREATE TABLE daily_pairs (
    site        VARCHAR NOT NULL,
    day         DATE    NOT NULL,
    dimension   VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    dimension2  VARCHAR NOT NULL,
    value2      VARCHAR NOT NULL,
    visitors    BIGINT  NOT NULL,
    visits      BIGINT  NOT NULL,
    pageviews   BIGINT  NOT NULL,
    bounces     BIGINT  NOT NULL,
    duration_s  BIGINT  NOT NULL,
    events      BIGINT  NOT NULL
);

-- Days whose pairs are written (each day once, after it has ended, while its events
-- are kept: days rolled up before this table existed get theirs if their events are
-- still there).
CREATE TABLE paired_days (
    day DATE PRIMARY KEY
);
