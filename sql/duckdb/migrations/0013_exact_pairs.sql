-- A sealed visit day's daily pairs are exact while its events are kept: every cell,
-- counted over the whole visits that began that day, as the query engine counts
-- them, so filtered breakdowns of those days read them instead of the visits. The
-- days whose pairs are exact are listed here. When the events expire, the day's
-- pairs are folded to the minimum crowd size (retention/pairs_fold.sql, through
-- pairs_folding, which is empty in between) and the day leaves this list.
CREATE TABLE exact_pairs_days (
    day DATE PRIMARY KEY
);

CREATE TABLE pairs_folding AS FROM daily_pairs LIMIT 0;
