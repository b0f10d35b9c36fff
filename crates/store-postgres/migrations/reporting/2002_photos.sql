-- 2002: photos of reports (the SQLite engine's 2002, same version). The
-- files (sanitised JPEG and thumbnail) live in the photo directory under
-- <report id>/<photo id>.jpg; this table says which photos a report has.
-- Written in the same transaction as the report.photos_added outbox row.
CREATE TABLE reporting.report_photos (
    id         TEXT COLLATE "C" PRIMARY KEY,
    report_id  TEXT COLLATE "C" NOT NULL REFERENCES reporting.reports(id),
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    -- size of the stored (sanitised) image file
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX report_photos_report ON reporting.report_photos (report_id, id);
