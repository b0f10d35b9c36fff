-- 6001: the embedded event bus: one ordered, durable log of every event the
-- relays published, and each consumer group's acknowledged position. It is
-- also the log read models are rebuilt from.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    report_id    TEXT NOT NULL,
    envelope     TEXT NOT NULL,
    published_at INTEGER NOT NULL
);

CREATE TABLE consumer_groups (
    name      TEXT PRIMARY KEY,
    acked_seq INTEGER NOT NULL DEFAULT 0
);
