-- 4002: the SLA due time on cases (from workflow's `sla.started` events;
-- NULL for cases created before this version, which show no SLA badge) and
-- indexes for the inbox's sort orders, its overdue filter and analytics.
ALTER TABLE cases ADD COLUMN due_at INTEGER;

-- sort=sla_due: earliest due first, cases without a due time last
CREATE INDEX cases_inbox_due   ON cases (withdrawn, agency, due_at IS NULL, due_at, created_at, report_id);
-- sort=upvotes (sort=oldest reads cases_inbox backwards)
CREATE INDEX cases_inbox_votes ON cases (withdrawn, agency, vote_count DESC, created_at DESC, report_id DESC);
-- overdue=true and the open backlog: an agency's open cases by due time
CREATE INDEX cases_open_due    ON cases (agency, due_at) WHERE withdrawn = 0 AND status IN ('RECEIVED', 'IN_PROGRESS');
-- analytics over every agency: the cases filed in a period (one agency's
-- use cases_inbox)
CREATE INDEX cases_created     ON cases (created_at);
