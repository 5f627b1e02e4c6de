-- DuckDB's memory limit for the whole database ($1, e.g. '1024MiB'): the writer
-- raises it for the daily roll-up and lowers it again after (src/store/duckdb.rs).
SET memory_limit = ?;
