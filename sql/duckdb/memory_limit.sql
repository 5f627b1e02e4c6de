-- DuckDB's memory limit for the whole database ($1, e.g. '1024MiB'): the store
-- raises it while a query, sealing or the roll-up runs (src/store/duckdb.rs).
SET memory_limit = ?;
