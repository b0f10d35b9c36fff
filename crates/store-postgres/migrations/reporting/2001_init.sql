-- 2001: the reporting write side on PostgreSQL, in schema `reporting`:
-- reports as citizens filed them, one vote per user per report, and the
-- outbox of report events. Same version and tables as the SQLite engine's
-- 2001 (ids TEXT, times BIGINT unix ms, flags BIGINT 0/1), plus the outbox
-- columns that let several relays share the outbox (see src/outbox.rs).
CREATE SCHEMA IF NOT EXISTS reporting;

CREATE TABLE reporting.reports (
    id         TEXT COLLATE "C" PRIMARY KEY,
    -- 'u:<user id>' or, for ANONYMOUS reports, 'a:<pseudonym>'
    owner      TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('PUBLIC', 'PRIVATE', 'ANONYMOUS')),
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    category   TEXT NOT NULL,
    agency     TEXT NOT NULL,
    lat        DOUBLE PRECISION,
    lon        DOUBLE PRECISION,
    address    TEXT,
    -- mirrored from operations' status events (edits are allowed while RECEIVED)
    status     TEXT NOT NULL,
    withdrawn  BIGINT NOT NULL DEFAULT 0,
    vote_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE reporting.votes (
    report_id  TEXT COLLATE "C" NOT NULL REFERENCES reporting.reports(id),
    voter_id   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, voter_id)
);

-- The transactional outbox: appended in the same transaction as each state
-- change, marked once the relay has published it. A relay claims the rows
-- it is publishing (claimed_by, claimed_until in server ms) so other relays
-- wait for it instead of publishing them too; a claim left by a dead relay
-- expires.
CREATE TABLE reporting.outbox (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      TEXT NOT NULL UNIQUE,
    event_type    TEXT NOT NULL,
    report_id     TEXT NOT NULL,
    envelope      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    relayed       BIGINT NOT NULL DEFAULT 0,
    claimed_by    TEXT,
    claimed_until BIGINT
);
CREATE INDEX outbox_unrelayed ON reporting.outbox (seq) WHERE relayed = 0;

-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE reporting.applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
