-- When a day's pairs are folded (retention/pairs_fold.sql), a cell under the
-- minimum crowd size joins its filter value's (value, '(other)') row. One visitor
-- can be in many such cells (six pages read after one rare source), so that row's
-- visitors are counted distinct from the day's visits just before the fold, here;
-- the table is empty in between.
CREATE TABLE pairs_fold_visitors (
    site       VARCHAR NOT NULL,
    day        DATE    NOT NULL,
    dimension  VARCHAR NOT NULL,
    value      VARCHAR NOT NULL,
    dimension2 VARCHAR NOT NULL,
    visitors   BIGINT  NOT NULL
);
