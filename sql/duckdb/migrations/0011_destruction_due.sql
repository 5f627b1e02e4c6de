-- A salt deleted from `salts` is destroyed only once the file is compacted (its
-- bytes linger in freed blocks until then). The row here, written in the same
-- transaction as the deletion, says a compaction is still owed; it is removed only
-- after one succeeded, so a failed compaction is retried (at every start and every
-- lifecycle run) until the salt's bytes are gone. It holds no salt.
CREATE TABLE destruction_due (
    since TIMESTAMP NOT NULL
);
