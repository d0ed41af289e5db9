-- Hand-written (Prisma does not model functions): the workflow-runner locks the runs a batch touches and reads their
-- step runs in one round trip instead of two.
--
-- Why a function and not one statement: a statement reads with the snapshot taken when it started, so steps read in
-- the statement that waited for a run's lock could miss what the lock's holder committed meanwhile. In a VOLATILE
-- PL/pgSQL function each statement takes a new snapshot (READ COMMITTED), so the steps, read by the second
-- statement once every lock is held, include every change committed before.
--
-- Runs are locked in id order (as every locker does, so two batches cannot deadlock): those named by id and those
-- owning the named step runs. Step runs are returned for the locked runs not in p_loaded (already in the caller's
-- hands). Returns {"runs": [...], "steps": [...]} with the columns' names. (The two sets of runs are a UNION, not
-- an OR: `id = ANY(…) OR id IN (…)` cannot use the primary key and scans the whole table.)
CREATE FUNCTION "steward_lock_runs"(p_run_ids text[], p_step_run_ids text[], p_loaded text[]) RETURNS json
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  locked json;
  ids text[];
  steps json;
BEGIN
  SELECT coalesce(json_agg(r), '[]'::json), coalesce(array_agg(r.id), '{}') INTO locked, ids FROM (
    SELECT id, task_id, tenant_id, definition_id, status, input, output, error, parent_run_id, parent_step_run_id, deadline_at, started_at, completed_at
      FROM workflow_runs
     WHERE id IN (SELECT unnest(p_run_ids) UNION ALL SELECT run_id FROM step_runs WHERE id = ANY(p_step_run_ids))
     ORDER BY id FOR UPDATE) r;
  SELECT coalesce(json_agg(s), '[]'::json) INTO steps FROM (
    SELECT id, run_id, step_path, status, attempt, input, output, error, scheduled_at, started_at, completed_at, next_attempt_at, deadline_at,
           lease_owner, lease_expires_at, wait_for, wait_key, parent_path
      FROM step_runs WHERE run_id = ANY(ids) AND NOT (run_id = ANY(p_loaded))) s;
  RETURN json_build_object('runs', locked, 'steps', steps);
END
$$;
