-- 3004: how many photos each report has, so a listing looks photos up only
-- for the reports that have some (most have none; the lookup for a page of
-- 50 was ~2.5% of the server's CPU in the no-think benchmark).
ALTER TABLE report_views ADD COLUMN photo_count INTEGER NOT NULL DEFAULT 0;
UPDATE report_views
   SET photo_count = (SELECT count(*) FROM report_photos p WHERE p.report_id = report_views.id);
