-- Removes the stored visits of visit day $1 before they are stored again, so that a
-- sealing interrupted after storing them never counts a visit twice.
DELETE FROM visits WHERE visit_day = CAST($1 AS DATE);
