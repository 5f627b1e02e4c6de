-- Sessions still open after a restart: last event within the timeout window.
SELECT visitor_id, arg_max(session_id, ts), CAST(epoch_us(max(ts)) AS BIGINT),
    CAST(date_diff('day', DATE '1970-01-01', arg_max(visit_day, ts)) AS INTEGER)
FROM events
WHERE ts >= make_timestamp(?) AND visitor_id IS NOT NULL AND session_id IS NOT NULL
GROUP BY visitor_id;
