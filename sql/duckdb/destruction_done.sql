-- The compaction the destroyed salts were owed has succeeded.
DELETE FROM destruction_due;
