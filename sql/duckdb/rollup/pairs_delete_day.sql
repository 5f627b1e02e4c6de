-- The pairs of visit day $1, which its exact pairs replace.
DELETE FROM daily_pairs WHERE day = CAST($1 AS DATE)
