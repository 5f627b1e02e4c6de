-- The latest sealed visit day, if any.
SELECT CAST(max(day) AS VARCHAR) FROM sealed_days;
