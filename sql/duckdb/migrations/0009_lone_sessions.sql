-- A privacy-signal hit (no pseudonym) is a visit of its own. It now carries a
-- session id drawn for it alone, as the pipeline gives one to every such hit, so
-- that stored visits hold these visits too and queries never scan the events for
-- them. The id is random: it links the hit to nothing.
UPDATE events SET session_id = hash(rowid, random()) WHERE session_id IS NULL;

-- The stored visits of sealed days lack these visits: seal those days again.
DELETE FROM visit_partials;
DELETE FROM visits;
DELETE FROM sealed_days;
