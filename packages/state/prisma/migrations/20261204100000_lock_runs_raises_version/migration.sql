-- Hand-written (Prisma does not model functions): steward_lock_runs raises the version of the runs it locks.
--
-- A workflow-runner acts on its cached copy of a run as long as the run's version is unchanged (steward_claim_runs).
-- Every workflow-runner changes runs only after locking them with this function, and a runner of an earlier release
-- (during a rolling deploy) knows nothing of versions: raising the version here, in the lock, makes any cached copy
-- elsewhere stale before such a runner changes anything. The caller gets the raised version back (and raises it
-- once more with its write). The claim path does not come here, so a step handled from the cache pays nothing.
-- Changing step runs by hand (SQL) must raise workflow_runs.version too, or restart the workflow-runners.
CREATE OR REPLACE FUNCTION "steward_lock_runs"(p_run_ids text[], p_step_run_ids text[], p_loaded text[]) RETURNS json
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  locked json;
  ids text[];
  steps json;
BEGIN
  SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}') INTO ids FROM (
    SELECT id FROM workflow_runs
     WHERE id IN (SELECT unnest(p_run_ids) UNION ALL SELECT run_id FROM step_runs WHERE id = ANY(p_step_run_ids))
     ORDER BY id FOR UPDATE) l;
  WITH raised AS (
    UPDATE workflow_runs SET version = version + 1 WHERE id = ANY(ids)
    RETURNING id, task_id, tenant_id, definition_id, status, input, output, error, parent_run_id, parent_step_run_id, deadline_at, started_at, completed_at, version
  )
  SELECT coalesce(json_agg(r ORDER BY r.id), '[]'::json) INTO locked FROM raised r;
  SELECT coalesce(json_agg(s), '[]'::json) INTO steps FROM (
    SELECT id, run_id, step_path, status, attempt, input, output, error, scheduled_at, started_at, completed_at, next_attempt_at, deadline_at,
           lease_owner, lease_expires_at, wait_for, wait_key, parent_path
      FROM step_runs WHERE run_id = ANY(ids) AND NOT (run_id = ANY(p_loaded))) s;
  RETURN json_build_object('runs', locked, 'steps', steps);
END
$$;
