-- Run versions, for the workflow-runner's cache of the runs it works on.
--
-- Every write to a run or to its step runs raises workflow_runs.version (the workflow-runner's one write statement
-- does it). A runner that keeps a run's state after its commit can then act on that copy without reading it again:
-- its transaction starts with steward_claim_runs, which locks the runs (in id order, as every locker does) and fails
-- with serialization_failure (40001) unless each still has the version the runner saw. The failure rolls the whole
-- transaction back, and the runner does the work again the usual way (steward_lock_runs, which now raises the
-- version and returns it).
ALTER TABLE "workflow_runs" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 0;

-- Hand-written (Prisma does not model functions). steward_lock_runs now raises the version of the runs it locks:
-- every workflow-runner changes runs only after locking them with it, and a runner of an earlier release (during a
-- rolling deploy) knows nothing of versions, so raising it here makes any cached copy elsewhere stale before such a
-- runner changes anything. The caller gets the raised version back (and raises it once more with its write). The
-- claim path does not come here, so a step handled from the cache pays nothing. Changing step runs by hand (SQL)
-- must raise workflow_runs.version too, or restart the workflow-runners.
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

-- Locks the runs in id order, then checks (with a snapshot taken after the locks, as this VOLATILE function's second
-- statement) that each still has the version its caller holds.
CREATE FUNCTION "steward_claim_runs"(p_run_ids text[], p_versions integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  current integer;
BEGIN
  PERFORM 1 FROM workflow_runs WHERE id = ANY(p_run_ids) ORDER BY id FOR UPDATE;
  SELECT count(*) INTO current FROM workflow_runs w JOIN unnest(p_run_ids, p_versions) AS v(id, version) ON w.id = v.id AND w.version = v.version;
  IF current <> cardinality(p_run_ids) THEN
    RAISE EXCEPTION 'workflow runs changed since this runner cached them' USING ERRCODE = 'serialization_failure';
  END IF;
END
$$;
