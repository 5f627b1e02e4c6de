-- Expires pseudonymous events before $1. A DELETE leaves the rows' bytes in the
-- file, so the store compacts (rewrites) the file afterwards; see compact.sql.
DELETE FROM events WHERE ts < CAST($1 AS DATE);
