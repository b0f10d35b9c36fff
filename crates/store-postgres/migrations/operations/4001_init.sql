-- 4001: the operations context on PostgreSQL, in schema `operations`: one
-- case per report, routed to one agency, with its status history and the
-- officers' answers. Same version and tables as the SQLite engine's 4001,
-- plus the outbox claim columns (see src/outbox.rs).
CREATE SCHEMA IF NOT EXISTS operations;

CREATE TABLE operations.cases (
    report_id        TEXT COLLATE "C" PRIMARY KEY,
    agency           TEXT NOT NULL,
    category         TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    -- NULL for ANONYMOUS reports: operations never learns who filed them
    reporter_user_id TEXT,
    visibility       TEXT NOT NULL,
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    address          TEXT,
    vote_count       BIGINT NOT NULL DEFAULT 0,
    escalation_level BIGINT NOT NULL DEFAULT 0,
    withdrawn        BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX cases_inbox        ON operations.cases (withdrawn, agency, created_at DESC, report_id DESC);
CREATE INDEX cases_inbox_status ON operations.cases (withdrawn, agency, status, created_at DESC, report_id DESC);

CREATE TABLE operations.case_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id     TEXT COLLATE "C" NOT NULL REFERENCES operations.cases(report_id),
    old_status    TEXT NOT NULL,
    new_status    TEXT NOT NULL,
    reason        TEXT,
    actor_user_id TEXT NOT NULL,
    changed_at    BIGINT NOT NULL
);
CREATE INDEX case_history_report ON operations.case_history (report_id, id);

CREATE TABLE operations.answers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    report_id       TEXT COLLATE "C" NOT NULL REFERENCES operations.cases(report_id),
    officer_user_id TEXT NOT NULL,
    message         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX answers_report ON operations.answers (report_id, created_at);

-- The transactional outbox: appended in the same transaction as each state
-- change, marked once the relay has published it; claimed by the relay
-- publishing it (see src/outbox.rs).
CREATE TABLE operations.outbox (
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
CREATE INDEX outbox_unrelayed ON operations.outbox (seq) WHERE relayed = 0;

-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE operations.applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
