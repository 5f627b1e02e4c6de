-- The custom-property keys of a site's events from $2 to $3 (µs since the epoch,
-- end exclusive), the most used first, at most 100 (`/api/v1/stats/props`). Read from
-- the `props` JSON text as the pipeline writes it (serde_json, compact): a key follows
-- `{` or `,` (inside a value every quote is escaped), and escaped quotes and
-- backslashes are undone. No JSON extension: the bundled DuckDB would download it.
SELECT replace(replace(replace(key, '\\', chr(1)), '\"', '"'), chr(1), '\') AS key
FROM (
    SELECT unnest(regexp_extract_all(props, '[{,]"((?:[^"\\]|\\.)*)":', 1)) AS key
    FROM events
    WHERE site = $1
      AND ts >= make_timestamp($2) AND ts < make_timestamp($3)
      AND props IS NOT NULL
)
GROUP BY key
ORDER BY count(*) DESC, key
LIMIT 100;
