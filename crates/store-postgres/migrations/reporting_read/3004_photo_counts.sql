-- 3004: how many photos each report has (the SQLite engine's 3004, same
-- version and column), so a listing can look photos up only for the reports
-- that have some (most have none; on SQLite the lookup for a page of 50 was
-- ~2.5% of the server's CPU in the no-think benchmark). The projector
-- recounts it when it records photos, as on SQLite.
ALTER TABLE reporting_read.report_views ADD COLUMN photo_count BIGINT NOT NULL DEFAULT 0;

UPDATE reporting_read.report_views v
   SET photo_count = p.n
  FROM (SELECT report_id, count(*) AS n FROM reporting_read.report_photos GROUP BY report_id) p
 WHERE p.report_id = v.id;
