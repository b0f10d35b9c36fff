-- 3003: maintained counts of live (not withdrawn) report views (the SQLite
-- engine's 3003, same version and tables), so a paged listing's total can be
-- a sum over a few counter rows instead of count(*) over every matching view.
-- The projector moves them with the rest of a view's change (the read-model
-- reaction's Count writes, app::reactions::read_model), on both engines: the
-- rule lives once, in the app, not in triggers.
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
