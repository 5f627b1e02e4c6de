-- Whether a compaction is owed to a destroyed salt (migration 0011).
SELECT count(*) > 0 FROM destruction_due;
