-- Forgets sealed days before $1, whose partials are gone.
DELETE FROM sealed_days WHERE day < CAST($1 AS DATE);
