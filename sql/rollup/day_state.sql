-- Whether day $1 has its aggregates and its pairs.
SELECT
    CAST($1 AS DATE) IN (SELECT day FROM rolled_up_days) AS rolled_up,
    CAST($1 AS DATE) IN (SELECT day FROM paired_days)    AS paired;
