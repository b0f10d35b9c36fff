-- 1001: the identity context on PostgreSQL, in its own schema `identity`:
-- agencies, categories (routing data the city head manages) and user
-- accounts with argon2id hashes. Same version and tables as the SQLite
-- engine's 1001. Every context has its own schema so all of them can share
-- one database or each have its own; statements name the schema, so nothing
-- depends on search_path (which does not survive PgBouncer transaction
-- pooling). Keys that are ordered or range-compared use COLLATE "C": byte
-- order, as on SQLite, whatever the database's default collation.
CREATE SCHEMA IF NOT EXISTS identity;

CREATE TABLE identity.agencies (
    code TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE identity.categories (
    slug   TEXT COLLATE "C" PRIMARY KEY,
    name   TEXT NOT NULL,
    agency TEXT COLLATE "C" NOT NULL REFERENCES identity.agencies(code)
);

CREATE TABLE identity.users (
    id              TEXT COLLATE "C" PRIMARY KEY,
    username        TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'supervisor', 'admin')),
    agency          TEXT COLLATE "C" REFERENCES identity.agencies(code),
    -- the anonymous-reporting key, sealed under a key derived from the password
    sealed_anon_key TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX users_role_agency ON identity.users (role, agency);
