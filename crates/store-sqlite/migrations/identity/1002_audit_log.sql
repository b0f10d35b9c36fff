-- 1002: the audit trail (issue 13): an append-only, hash-chained log of
-- privileged staff actions, kept beside the accounts it is about. Each row's
-- hash covers the previous row's hash and its own contents, and seq is
-- gapless from 1, so `lapor audit verify` finds an edited, deleted or
-- reordered row. Appends read the head and insert on the single writer, so
-- the chain never forks. Same version and columns as PostgreSQL's 1002.
-- details is JSON text (hashed in canonical form: sorted keys).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);
