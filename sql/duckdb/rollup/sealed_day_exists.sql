-- Whether visit day $1 is sealed (its visits stored): a day reopened after the clock
-- went back, or expired, gets no pairs.
SELECT count(*) FROM sealed_days WHERE day = CAST($1 AS DATE);
