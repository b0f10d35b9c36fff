-- 5002: maintained counts of SLA jobs (the SQLite engine's 5002, same
-- version and tables), so the total of /sla/status can be a sum over a few
-- counter rows instead of count(*) over every job. As on SQLite, triggers
-- keep them in the same transaction as every change to sla_jobs, so they are
-- right whether or not the adapter reads them; an adapter must not also
-- update them itself.
CREATE TABLE workflow.sla_counts (
    public     BOOLEAN NOT NULL,
    agency     TEXT NOT NULL,
    sla_status TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (public, agency, sla_status)
);

CREATE TABLE workflow.sla_owner_counts (
    owner      TEXT NOT NULL,
    public     BOOLEAN NOT NULL,
    agency     TEXT NOT NULL,
    sla_status TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (owner, public, agency, sla_status)
);

INSERT INTO workflow.sla_counts (public, agency, sla_status, n)
SELECT visibility = 'PUBLIC', agency, sla_status, count(*) FROM workflow.sla_jobs GROUP BY 1, 2, 3;
INSERT INTO workflow.sla_owner_counts (owner, public, agency, sla_status, n)
SELECT owner, visibility = 'PUBLIC', agency, sla_status, count(*) FROM workflow.sla_jobs GROUP BY 1, 2, 3, 4;

-- Takes the old row out of its counters and adds the new row to its own.
CREATE FUNCTION workflow.count_sla_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE workflow.sla_counts SET n = n - 1
        WHERE public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency AND sla_status = OLD.sla_status;
        UPDATE workflow.sla_owner_counts SET n = n - 1
        WHERE owner = OLD.owner AND public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency
          AND sla_status = OLD.sla_status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO workflow.sla_counts AS c (public, agency, sla_status, n)
        VALUES (NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
        ON CONFLICT (public, agency, sla_status) DO UPDATE SET n = c.n + 1;
        INSERT INTO workflow.sla_owner_counts AS c (owner, public, agency, sla_status, n)
        VALUES (NEW.owner, NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
        ON CONFLICT (owner, public, agency, sla_status) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER sla_jobs_count AFTER INSERT OR DELETE ON workflow.sla_jobs
FOR EACH ROW EXECUTE FUNCTION workflow.count_sla_job();

-- Only changes of a counter's key matter (not due times or levels).
CREATE TRIGGER sla_jobs_count_update
AFTER UPDATE OF owner, visibility, agency, sla_status ON workflow.sla_jobs
FOR EACH ROW
WHEN (OLD.owner IS DISTINCT FROM NEW.owner OR OLD.visibility IS DISTINCT FROM NEW.visibility
   OR OLD.agency IS DISTINCT FROM NEW.agency OR OLD.sla_status IS DISTINCT FROM NEW.sla_status)
EXECUTE FUNCTION workflow.count_sla_job();
