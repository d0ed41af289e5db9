-- Hand-written (Prisma does not model triggers): the run version holds for every writer, not only the
-- workflow-runner's write statement.
--
-- A workflow-runner acts on its cached copy of a run as long as the run's version is unchanged (steward_claim_runs).
-- A writer that changed a run's step runs without raising the version would leave that copy looking current: a
-- workflow-runner of an earlier release during a rolling deploy, or an operator's hand-written SQL. So:
--   * an UPDATE of a workflow_runs row that leaves version as it was raises it (BEFORE, per row);
--   * an INSERT, UPDATE or DELETE of step runs raises the version of their runs (AFTER, per statement), except runs
--     whose row this transaction has already updated (its xmin is ours: the version was raised then). The
--     workflow-runner's write statement updates the row of every run whose steps it changes, so its runs are raised
--     exactly once, as its cached copies expect.
CREATE FUNCTION "steward_run_version_on_update"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version = OLD.version THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "workflow_runs_version" BEFORE UPDATE ON "workflow_runs"
  FOR EACH ROW EXECUTE FUNCTION "steward_run_version_on_update"();

CREATE FUNCTION "steward_step_runs_raise_run_version"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workflow_runs SET version = version + 1
   WHERE id IN (SELECT run_id FROM changed) AND xmin <> pg_current_xact_id()::xid;
  RETURN NULL;
END
$$;

CREATE TRIGGER "step_runs_version_on_insert" AFTER INSERT ON "step_runs"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "steward_step_runs_raise_run_version"();
CREATE TRIGGER "step_runs_version_on_update" AFTER UPDATE ON "step_runs"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "steward_step_runs_raise_run_version"();
CREATE TRIGGER "step_runs_version_on_delete" AFTER DELETE ON "step_runs"
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "steward_step_runs_raise_run_version"();
