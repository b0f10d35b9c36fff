-- 3002: the photo ids of each report view (from report.photos_added), so
-- listings and single reads show them (the SQLite engine's 3002, same
-- version). Photo ids are UUIDv7: ordering by id is oldest first.
CREATE TABLE reporting_read.report_photos (
    report_id TEXT COLLATE "C" NOT NULL,
    photo_id  TEXT COLLATE "C" NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (report_id, photo_id)
);
