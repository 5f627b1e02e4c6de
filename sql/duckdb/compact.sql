-- Compaction: copy the live database into a fresh file. Deleted rows, destroyed
-- salts and freed blocks are not copied, so once the fresh file replaces the old
-- one, nothing deleted is left in any file the collector keeps.
-- {target} and {source} are the store's own file path and database name, quoted
-- by the store (never request data).
ATTACH {target} AS spoorloos_compact;
COPY FROM DATABASE {source} TO spoorloos_compact;
DETACH spoorloos_compact;
