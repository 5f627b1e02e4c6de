-- A salt was deleted: a compaction is owed until one succeeds.
INSERT INTO destruction_due VALUES (now());
