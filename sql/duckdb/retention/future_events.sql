-- How many events are stamped from $1 on: ahead of the clock, which went back after
-- running ahead.
SELECT count(*) FROM events WHERE ts >= CAST($1 AS DATE)
