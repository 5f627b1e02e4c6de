-- Forgets sealed days before $1 or from $2 on, whose partials are gone.
DELETE FROM sealed_days WHERE day < CAST($1 AS DATE) OR day >= CAST($2 AS DATE);
