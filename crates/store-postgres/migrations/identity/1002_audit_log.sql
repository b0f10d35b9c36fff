-- 1002: the audit trail (issue 13): an append-only, hash-chained log of
-- privileged staff actions, kept in the `identity` schema beside the
-- accounts it is about. Each row's hash covers the previous row's hash and
-- its own contents, and seq is gapless from 1, so `lapor audit verify` finds
-- an edited, deleted or reordered row. Instances append under
-- pg_advisory_xact_lock and read the head inside that lock, so several
-- writers never fork the chain (no sequence: seq is the head's plus one).
-- details is JSON kept as TEXT, not JSONB, which would reorder keys and
-- normalise numbers; it is hashed in canonical form (sorted keys) anyway.
-- Same version and columns as SQLite's 1002.
CREATE TABLE identity.audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    target    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON identity.audit_log (actor, seq);
CREATE INDEX audit_log_action ON identity.audit_log (action, seq);
CREATE INDEX audit_log_at ON identity.audit_log (at);
