-- When each visit's counted events happened: its last one (`ended`, beside
-- `started`), and for a visit whose events span more than one UTC hour, each
-- event's name and time (`hours`; NULL for the others, nearly all). A graph under
-- visit filters counts a visit whose first and last events share a bucket there
-- whole and splits only the others by their events (src/query/plan.rs), instead
-- of joining every event of the range onto the visits.
ALTER TABLE visits ADD COLUMN ended TIMESTAMP;
ALTER TABLE visits DROP COLUMN event_list;
ALTER TABLE visits ADD COLUMN event_list STRUCT(name VARCHAR, p VARCHAR, "first" BOOLEAN)[];
ALTER TABLE visits ADD COLUMN hours STRUCT(name VARCHAR, ts TIMESTAMP)[];

-- Which visit stands for its visitor (a visitor is a pseudonym, so one UTC day)
-- when visitors are counted: `first_visit` marks the visitor's first visit, each
-- `first_by_<property>` its first visit with that property's value, and `steady`
-- says that every visit of the visitor has the same country, region, city,
-- device, browser, OS, their versions, screen and connection (they follow from the
-- IP address and User-Agent the pseudonym is made of). Where a query's filters and
-- dimensions read steady properties and at most one other, each visitor is counted
-- by its one marked visit instead of by a distinct count over every visit
-- (src/query/plan.rs). A visit without a pseudonym marks itself and is steady.
-- In a visit's list of events, `first` marks the visitor's first event on that
-- page, so that a breakdown by page under steady filters counts visitors the same
-- way.
ALTER TABLE visits ADD COLUMN steady BOOLEAN;
ALTER TABLE visits ADD COLUMN first_visit BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_referrer BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_source BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_channel BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_utm_source BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_utm_medium BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_utm_campaign BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_utm_content BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_utm_term BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_entry_page BOOLEAN;
ALTER TABLE visits ADD COLUMN first_by_exit_page BOOLEAN;

-- Visits stored before lack all this: seal their days again.
DELETE FROM visit_partials;
DELETE FROM visits;
DELETE FROM sealed_days;
