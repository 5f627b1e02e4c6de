-- Ends a transaction a reader left open before its connection is used again (DuckDB
-- refuses it when none is open, the usual case).
ROLLBACK
