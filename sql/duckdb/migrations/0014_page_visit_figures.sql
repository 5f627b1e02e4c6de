-- A page's own row in the exact pairs: `dimension` 'page', its value, an empty
-- `dimension2` and `value2`, and the visit figures (visitors, visits, their
-- pageviews, bounces, duration, events) of the visits with any event on the page, so
-- that the top figures of a view filtered by a page read them. Folded like every
-- pair row when the day's events expire. The days whose pairs have these rows are
-- listed here; days stored before have none, and their visits answer.
CREATE TABLE page_visit_days (
    day DATE PRIMARY KEY
);
