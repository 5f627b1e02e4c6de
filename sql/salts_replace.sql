-- Destroys every stored salt. DROP TABLE (then CHECKPOINT) rewrites the blocks, where
-- a DELETE would leave a destroyed salt's bytes in the database file.
DROP TABLE IF EXISTS salts;
CREATE TABLE salts (
    day  DATE NOT NULL,
    salt BLOB NOT NULL
);
