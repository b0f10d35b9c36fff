-- 5002: maintained counts of SLA jobs, so the total of /sla/status is a sum
-- over a few counter rows instead of count(*) over every job. Triggers keep
-- them in the same transaction as every change to sla_jobs.
CREATE TABLE sla_counts (
    public     INTEGER NOT NULL,
    agency     TEXT NOT NULL,
    sla_status TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (public, agency, sla_status)
) WITHOUT ROWID;

CREATE TABLE sla_owner_counts (
    owner      TEXT NOT NULL,
    public     INTEGER NOT NULL,
    agency     TEXT NOT NULL,
    sla_status TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (owner, public, agency, sla_status)
) WITHOUT ROWID;

INSERT INTO sla_counts (public, agency, sla_status, n)
SELECT visibility = 'PUBLIC', agency, sla_status, count(*) FROM sla_jobs GROUP BY 1, 2, 3;
INSERT INTO sla_owner_counts (owner, public, agency, sla_status, n)
SELECT owner, visibility = 'PUBLIC', agency, sla_status, count(*) FROM sla_jobs GROUP BY 1, 2, 3, 4;

CREATE TRIGGER sla_jobs_count_insert AFTER INSERT ON sla_jobs BEGIN
    INSERT INTO sla_counts (public, agency, sla_status, n)
    VALUES (NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO sla_owner_counts (owner, public, agency, sla_status, n)
    VALUES (NEW.owner, NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER sla_jobs_count_update AFTER UPDATE OF owner, visibility, agency, sla_status ON sla_jobs
WHEN OLD.owner IS NOT NEW.owner OR OLD.visibility IS NOT NEW.visibility
  OR OLD.agency IS NOT NEW.agency OR OLD.sla_status IS NOT NEW.sla_status
BEGIN
    UPDATE sla_counts SET n = n - 1
    WHERE public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency AND sla_status = OLD.sla_status;
    UPDATE sla_owner_counts SET n = n - 1
    WHERE owner = OLD.owner AND public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency AND sla_status = OLD.sla_status;
    INSERT INTO sla_counts (public, agency, sla_status, n)
    VALUES (NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO sla_owner_counts (owner, public, agency, sla_status, n)
    VALUES (NEW.owner, NEW.visibility = 'PUBLIC', NEW.agency, NEW.sla_status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER sla_jobs_count_delete AFTER DELETE ON sla_jobs BEGIN
    UPDATE sla_counts SET n = n - 1
    WHERE public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency AND sla_status = OLD.sla_status;
    UPDATE sla_owner_counts SET n = n - 1
    WHERE owner = OLD.owner AND public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency AND sla_status = OLD.sla_status;
END;
