-- Expires pseudonymous events before $1, and those stamped from $2 on (ahead of the
-- clock: it went back after running ahead). A DELETE leaves the rows' bytes in the
-- file, so the store compacts (rewrites) the file afterwards; see compact.sql.
DELETE FROM events WHERE ts < CAST($1 AS DATE) OR ts >= CAST($2 AS DATE);
