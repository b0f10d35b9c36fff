-- 3003: maintained counts of live (not withdrawn) report views (the SQLite
-- engine's 3003, same version and tables), so a paged listing's total can be
-- a sum over a few counter rows instead of count(*) over every matching view.
-- SQLite's projector keeps them in its own code; here triggers on
-- report_views keep them, in the same transaction as every change to a view
-- (a rebuild's DELETE included), whichever code makes it. So they are right
-- whether or not the adapter reads them; an adapter must not also update
-- them itself.
--   report_counts:       per (public?, agency, category, status): tiny
--   report_owner_counts: per owner as well, for "PUBLIC plus my own"
CREATE TABLE reporting_read.report_counts (
    public   BOOLEAN NOT NULL,
    agency   TEXT NOT NULL,
    category TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (public, agency, category, status)
);

CREATE TABLE reporting_read.report_owner_counts (
    owner    TEXT NOT NULL,
    public   BOOLEAN NOT NULL,
    agency   TEXT NOT NULL,
    category TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (owner, public, agency, category, status)
);

INSERT INTO reporting_read.report_counts (public, agency, category, status, n)
SELECT visibility = 'PUBLIC', agency, category, status, count(*)
FROM reporting_read.report_views WHERE withdrawn = 0 GROUP BY 1, 2, 3, 4;

INSERT INTO reporting_read.report_owner_counts (owner, public, agency, category, status, n)
SELECT owner, visibility = 'PUBLIC', agency, category, status, count(*)
FROM reporting_read.report_views WHERE withdrawn = 0 GROUP BY 1, 2, 3, 4, 5;

-- Takes the old row (if it was live) out of its counters and adds the new
-- row (if it is live) to its counters.
CREATE FUNCTION reporting_read.count_report_view() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.withdrawn = 0 THEN
            UPDATE reporting_read.report_counts SET n = n - 1
            WHERE public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency
              AND category = OLD.category AND status = OLD.status;
            UPDATE reporting_read.report_owner_counts SET n = n - 1
            WHERE owner = OLD.owner AND public = (OLD.visibility = 'PUBLIC') AND agency = OLD.agency
              AND category = OLD.category AND status = OLD.status;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.withdrawn = 0 THEN
            INSERT INTO reporting_read.report_counts AS c (public, agency, category, status, n)
            VALUES (NEW.visibility = 'PUBLIC', NEW.agency, NEW.category, NEW.status, 1)
            ON CONFLICT (public, agency, category, status) DO UPDATE SET n = c.n + 1;
            INSERT INTO reporting_read.report_owner_counts AS c (owner, public, agency, category, status, n)
            VALUES (NEW.owner, NEW.visibility = 'PUBLIC', NEW.agency, NEW.category, NEW.status, 1)
            ON CONFLICT (owner, public, agency, category, status) DO UPDATE SET n = c.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER report_views_count AFTER INSERT OR DELETE ON reporting_read.report_views
FOR EACH ROW EXECUTE FUNCTION reporting_read.count_report_view();

-- Only changes of a counter's key matter (not votes or escalations).
CREATE TRIGGER report_views_count_update
AFTER UPDATE OF owner, visibility, agency, category, status, withdrawn ON reporting_read.report_views
FOR EACH ROW
WHEN (OLD.owner IS DISTINCT FROM NEW.owner OR OLD.visibility IS DISTINCT FROM NEW.visibility
   OR OLD.agency IS DISTINCT FROM NEW.agency OR OLD.category IS DISTINCT FROM NEW.category
   OR OLD.status IS DISTINCT FROM NEW.status OR OLD.withdrawn IS DISTINCT FROM NEW.withdrawn)
EXECUTE FUNCTION reporting_read.count_report_view();
