-- 3002: the photo ids of each report view (from report.photos_added), so
-- listings and single reads show them. Photo ids are UUIDv7: ordering by id
-- is oldest first.
CREATE TABLE report_photos (
    report_id TEXT NOT NULL,
    photo_id  TEXT NOT NULL,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (report_id, photo_id)
) WITHOUT ROWID;
