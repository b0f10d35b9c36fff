-- 3001: the reporting read side, built only by the projector from the
-- event log (and rebuilt from it): report views, their timelines and
-- per-category statistics.
CREATE TABLE report_views (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    title            TEXT NOT NULL,
    content          TEXT NOT NULL,
    category         TEXT NOT NULL,
    agency           TEXT NOT NULL,
    lat              REAL,
    lon              REAL,
    address          TEXT,
    status           TEXT NOT NULL,
    vote_count       INTEGER NOT NULL DEFAULT 0,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_status_at   INTEGER NOT NULL
);
-- newest-first keyset paging for each kind of listing
CREATE INDEX rv_visibility ON report_views (withdrawn, visibility, created_at DESC, id DESC);
CREATE INDEX rv_owner      ON report_views (owner, created_at DESC, id DESC);
CREATE INDEX rv_agency     ON report_views (agency, created_at DESC, id DESC);
CREATE INDEX rv_all        ON report_views (withdrawn, created_at DESC, id DESC);
CREATE INDEX rv_votes      ON report_views (withdrawn, visibility, vote_count DESC, created_at DESC, id DESC);

CREATE TABLE report_timeline (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT,
    message          TEXT,
    escalation_level INTEGER,
    at               INTEGER NOT NULL
);
CREATE INDEX rt_report ON report_timeline (report_id, seq);

-- maintained counters, so statistics stay O(categories) at any size
CREATE TABLE category_stats (
    category     TEXT PRIMARY KEY,
    total        INTEGER NOT NULL DEFAULT 0,
    received     INTEGER NOT NULL DEFAULT 0,
    in_progress  INTEGER NOT NULL DEFAULT 0,
    resolved     INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    last_updated INTEGER NOT NULL
);

-- Events this store has applied, so redelivered events change nothing.
CREATE TABLE applied_events (
    event_id   TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;

