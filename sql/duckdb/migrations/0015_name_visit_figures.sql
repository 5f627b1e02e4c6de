-- An event name's own row in the exact pairs, like a page's (migration 0014):
-- `dimension` 'name', the name as its value, an empty `dimension2` and `value2`, and
-- the visit figures of the visits with any event of that name, so that the top
-- figures of a view filtered by a goal or an event name read them. The days whose
-- pairs have these rows are listed here; days stored before have none, and their
-- visits answer.
CREATE TABLE name_visit_days (
    day DATE PRIMARY KEY
);
