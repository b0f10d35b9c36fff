-- 3004: how many photos each report has (the SQLite engine's 3004, same
-- version and column), so a listing can look photos up only for the reports
-- that have some (most have none; on SQLite the lookup for a page of 50 was
-- ~2.5% of the server's CPU in the no-think benchmark). SQLite's projector
-- recounts in its own code; here a trigger on report_photos keeps the count
-- in the same transaction as every photo recorded or removed (a rebuild's
-- DELETE included), so it is right whether or not the adapter reads it; an
-- adapter must not also update it itself.
ALTER TABLE reporting_read.report_views ADD COLUMN photo_count BIGINT NOT NULL DEFAULT 0;

UPDATE reporting_read.report_views v
   SET photo_count = p.n
  FROM (SELECT report_id, count(*) AS n FROM reporting_read.report_photos GROUP BY report_id) p
 WHERE p.report_id = v.id;

CREATE FUNCTION reporting_read.count_report_photo() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE reporting_read.report_views SET photo_count = photo_count + 1 WHERE id = NEW.report_id;
    ELSE
        UPDATE reporting_read.report_views SET photo_count = photo_count - 1 WHERE id = OLD.report_id;
    END IF;
    RETURN NULL;
END;
$$;

-- Rows skipped by INSERT ... ON CONFLICT DO NOTHING (a photo recorded
-- twice) fire no row trigger, so they are not counted.
CREATE TRIGGER report_photos_count AFTER INSERT OR DELETE ON reporting_read.report_photos
FOR EACH ROW EXECUTE FUNCTION reporting_read.count_report_photo();
