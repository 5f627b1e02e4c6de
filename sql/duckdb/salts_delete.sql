-- Removes every stored salt before the current ones are written back. When a salt
-- is destroyed this way, the store compacts the file so its bytes are gone too.
DELETE FROM salts;
