-- 3001: the reporting read side on PostgreSQL, in schema `reporting_read`
-- (the SQLite engine's `read` migrations, same version): built only by the
-- projector from the events (and rebuilt from them): report views, their
-- timelines and per-category statistics. Each read database (primary and
-- replicas) has its own copy and its own consumer group.
CREATE SCHEMA IF NOT EXISTS reporting_read;

CREATE TABLE reporting_read.report_views (
    id               TEXT COLLATE "C" PRIMARY KEY,
    owner            TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    category         TEXT NOT NULL,
    agency           TEXT NOT NULL,
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    address          TEXT,
    status           TEXT NOT NULL,
    vote_count       BIGINT NOT NULL DEFAULT 0,
    escalation_level BIGINT NOT NULL DEFAULT 0,
    withdrawn        BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_status_at   BIGINT NOT NULL
);
-- newest-first keyset paging for each kind of listing
CREATE INDEX rv_visibility ON reporting_read.report_views (withdrawn, visibility, created_at DESC, id DESC);
CREATE INDEX rv_owner      ON reporting_read.report_views (owner, created_at DESC, id DESC);
CREATE INDEX rv_agency     ON reporting_read.report_views (agency, created_at DESC, id DESC);
CREATE INDEX rv_all        ON reporting_read.report_views (withdrawn, created_at DESC, id DESC);
CREATE INDEX rv_votes      ON reporting_read.report_views (withdrawn, visibility, vote_count DESC, created_at DESC, id DESC);

CREATE TABLE reporting_read.report_timeline (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT,
    message          TEXT,
    escalation_level BIGINT,
    at               BIGINT NOT NULL
);
CREATE INDEX rt_report ON reporting_read.report_timeline (report_id, seq);

-- maintained counters, so statistics stay O(categories) at any size
CREATE TABLE reporting_read.category_stats (
    category     TEXT COLLATE "C" PRIMARY KEY,
    total        BIGINT NOT NULL DEFAULT 0,
    received     BIGINT NOT NULL DEFAULT 0,
    in_progress  BIGINT NOT NULL DEFAULT 0,
    resolved     BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    last_updated BIGINT NOT NULL
);

-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE reporting_read.applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);
