-- 2002: photos of reports. The files (sanitised JPEG and thumbnail) live in
-- the photo directory under <report id>/<photo id>.jpg; this table says
-- which photos a report has. Written in the same transaction as the
-- report.photos_added outbox row.
CREATE TABLE report_photos (
    id         TEXT PRIMARY KEY,
    report_id  TEXT NOT NULL REFERENCES reports(id),
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    -- size of the stored (sanitised) image file
    size_bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX report_photos_report ON report_photos (report_id, id);
