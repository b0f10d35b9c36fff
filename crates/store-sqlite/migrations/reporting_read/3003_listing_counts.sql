-- 3003: maintained counts of live (not withdrawn) report views, so a paged
-- listing's total is a sum over a few counter rows instead of count(*) over
-- every matching view. Kept by the projector in the same transaction as the
-- views; rebuilt with them.
--   report_counts:       per (public?, agency, category, status): tiny
--   report_owner_counts: per owner as well, for "PUBLIC plus my own"
CREATE TABLE report_counts (
    public   INTEGER NOT NULL,
    agency   TEXT NOT NULL,
    category TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (public, agency, category, status)
) WITHOUT ROWID;

CREATE TABLE report_owner_counts (
    owner    TEXT NOT NULL,
    public   INTEGER NOT NULL,
    agency   TEXT NOT NULL,
    category TEXT NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (owner, public, agency, category, status)
) WITHOUT ROWID;

INSERT INTO report_counts (public, agency, category, status, n)
SELECT visibility = 'PUBLIC', agency, category, status, count(*)
FROM report_views WHERE withdrawn = 0 GROUP BY 1, 2, 3, 4;

INSERT INTO report_owner_counts (owner, public, agency, category, status, n)
SELECT owner, visibility = 'PUBLIC', agency, category, status, count(*)
FROM report_views WHERE withdrawn = 0 GROUP BY 1, 2, 3, 4, 5;
