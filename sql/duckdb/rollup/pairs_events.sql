-- The events of the visits that began on day $1, each with its values of the event
-- properties (page, hostname, name), for the exact pair count (store/pairs.rs),
-- which joins them to their stored visits by session.
SELECT site, session_id, name, pathname, hostname
FROM events
WHERE visit_day = CAST($1 AS DATE) AND session_id IS NOT NULL
