-- 5001: the workflow context: an SLA job per report, SLA configuration,
-- escalations and the notifications delivered to users.
CREATE TABLE sla_jobs (
    report_id          TEXT PRIMARY KEY,
    -- notification address of the reporter ('u:' user or 'a:' pseudonym)
    owner              TEXT NOT NULL,
    visibility         TEXT NOT NULL,
    agency             TEXT NOT NULL,
    category           TEXT NOT NULL,
    sla_status         TEXT NOT NULL,
    escalation_level   INTEGER NOT NULL DEFAULT 0,
    due_at             INTEGER NOT NULL,
    next_escalation_at INTEGER,
    current_status     TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX sla_jobs_due     ON sla_jobs (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX sla_jobs_created ON sla_jobs (created_at DESC, report_id DESC);

-- '' is the default duration; other rows override one category
CREATE TABLE sla_config (
    category         TEXT PRIMARY KEY,
    duration_seconds INTEGER NOT NULL
);
INSERT INTO sla_config (category, duration_seconds) VALUES ('', 86400);

CREATE TABLE escalations (
    report_id    TEXT NOT NULL,
    level        INTEGER NOT NULL,
    agency       TEXT NOT NULL,
    escalated_at INTEGER NOT NULL,
    PRIMARY KEY (report_id, level)
);
CREATE INDEX escalations_agency ON escalations (agency, escalated_at DESC);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    report_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    is_read    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at DESC);

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

