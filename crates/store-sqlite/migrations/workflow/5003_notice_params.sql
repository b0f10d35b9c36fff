-- 5003: notifications are stored as data, a kind plus its parameters (JSON),
-- so each reader renders them in their own language and rewording a
-- sentence cannot lose a translation. `message` stays for the rows stored
-- before, which keep their English sentence (params NULL: read back as a
-- legacy notice); new rows leave it empty.
ALTER TABLE notifications ADD COLUMN params TEXT;
