-- 4001: the operations context: one case per report, routed to one agency,
-- with its status history and the officers' answers.
CREATE TABLE cases (
    report_id        TEXT PRIMARY KEY,
    agency           TEXT NOT NULL,
    category         TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    -- NULL for ANONYMOUS reports: operations never learns who filed them
    reporter_user_id TEXT,
    visibility       TEXT NOT NULL,
    lat              REAL,
    lon              REAL,
    address          TEXT,
    vote_count       INTEGER NOT NULL DEFAULT 0,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX cases_inbox        ON cases (withdrawn, agency, created_at DESC, report_id DESC);
CREATE INDEX cases_inbox_status ON cases (withdrawn, agency, status, created_at DESC, report_id DESC);

CREATE TABLE case_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id     TEXT NOT NULL REFERENCES cases(report_id),
    old_status    TEXT NOT NULL,
    new_status    TEXT NOT NULL,
    reason        TEXT,
    actor_user_id TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
);
CREATE INDEX case_history_report ON case_history (report_id, id);

CREATE TABLE answers (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES cases(report_id),
    officer_user_id TEXT NOT NULL,
    message         TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX answers_report ON answers (report_id, created_at);

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

