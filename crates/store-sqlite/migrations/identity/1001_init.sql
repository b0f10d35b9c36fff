-- 1001: the identity context: agencies, categories (routing data the city
-- head manages) and user accounts with argon2id hashes.
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE categories (
    slug   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    agency TEXT NOT NULL REFERENCES agencies(code)
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'supervisor', 'admin')),
    agency          TEXT REFERENCES agencies(code),
    -- the anonymous-reporting key, sealed under a key derived from the password
    sealed_anon_key TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX users_role_agency ON users (role, agency);
