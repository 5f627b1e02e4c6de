-- Region and city of a visit (its first event's), for `visit:region` and
-- `visit:city` where the configuration keeps them (geoip.city).
ALTER TABLE visits ADD COLUMN region VARCHAR;
ALTER TABLE visits ADD COLUMN city VARCHAR;

-- Visits stored before had no such columns: seal their days again.
DELETE FROM visit_partials;
DELETE FROM visits;
DELETE FROM sealed_days;
