-- Each visit's events other than engagement: name and page. A breakdown by
-- page or goal under visit filters reads them from the matching visits instead of
-- joining every event of the range onto the visits (src/query/plan.rs).
ALTER TABLE visits ADD COLUMN event_list STRUCT(name VARCHAR, p VARCHAR)[];

-- Visits stored before had no such list: seal their days again.
DELETE FROM visit_partials;
DELETE FROM visits;
DELETE FROM sealed_days;
