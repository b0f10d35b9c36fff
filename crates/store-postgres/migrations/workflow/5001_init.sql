-- 5001: the workflow context on PostgreSQL, in schema `workflow`: an SLA
-- job per report, SLA configuration, escalations and the notifications
-- delivered to users. Same version and tables as the SQLite engine's 5001,
-- plus the outbox claim columns (see src/outbox.rs).
CREATE SCHEMA IF NOT EXISTS workflow;

CREATE TABLE workflow.sla_jobs (
    report_id          TEXT COLLATE "C" PRIMARY KEY,
    -- notification address of the reporter ('u:' user or 'a:' pseudonym)
    owner              TEXT NOT NULL,
    visibility         TEXT NOT NULL,
    agency             TEXT NOT NULL,
    category           TEXT NOT NULL,
    sla_status         TEXT NOT NULL,
    escalation_level   BIGINT NOT NULL DEFAULT 0,
    due_at             BIGINT NOT NULL,
    next_escalation_at BIGINT,
    current_status     TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX sla_jobs_due     ON workflow.sla_jobs (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX sla_jobs_created ON workflow.sla_jobs (created_at DESC, report_id DESC);

-- '' is the default duration; other rows override one category
CREATE TABLE workflow.sla_config (
    category         TEXT COLLATE "C" PRIMARY KEY,
    duration_seconds BIGINT NOT NULL
);
INSERT INTO workflow.sla_config (category, duration_seconds) VALUES ('', 86400);

CREATE TABLE workflow.escalations (
    report_id    TEXT COLLATE "C" NOT NULL,
    level        BIGINT NOT NULL,
    agency       TEXT NOT NULL,
    escalated_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, level)
);
CREATE INDEX escalations_agency ON workflow.escalations (agency, escalated_at DESC);

CREATE TABLE workflow.notifications (
    id         TEXT COLLATE "C" PRIMARY KEY,
    recipient  TEXT NOT NULL,
    report_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    is_read    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_recipient ON workflow.notifications (recipient, created_at DESC);

-- The transactional outbox: appended in the same transaction as each state
-- change, marked once the relay has published it; claimed by the relay
-- publishing it (see src/outbox.rs).
CREATE TABLE workflow.outbox (
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
CREATE INDEX outbox_unrelayed ON workflow.outbox (seq) WHERE relayed = 0;

-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE workflow.applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
