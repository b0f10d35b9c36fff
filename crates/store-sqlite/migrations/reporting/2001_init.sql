-- 2001: the reporting write side: reports as citizens filed them, one vote
-- per user per report, and the outbox of report events.
CREATE TABLE reports (
    id         TEXT PRIMARY KEY,
    -- 'u:<user id>' or, for ANONYMOUS reports, 'a:<pseudonym>'
    owner      TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('PUBLIC', 'PRIVATE', 'ANONYMOUS')),
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    category   TEXT NOT NULL,
    agency     TEXT NOT NULL,
    lat        REAL,
    lon        REAL,
    address    TEXT,
    -- mirrored from operations' status events (edits are allowed while RECEIVED)
    status     TEXT NOT NULL,
    withdrawn  INTEGER NOT NULL DEFAULT 0,
    vote_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE votes (
    report_id  TEXT NOT NULL REFERENCES reports(id),
    voter_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (report_id, voter_id)
) WITHOUT ROWID;

-- The transactional outbox: appended in the same transaction as each state
-- change, marked once the relay has published it.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    report_id  TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    relayed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unrelayed ON outbox (seq) WHERE relayed = 0;


-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;

