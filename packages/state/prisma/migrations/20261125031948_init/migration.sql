-- CreateEnum
CREATE TYPE "session_status" AS ENUM ('active', 'paused', 'closed');

-- CreateEnum
CREATE TYPE "task_kind" AS ENUM ('skill', 'workflow');

-- CreateEnum
CREATE TYPE "task_status" AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "workflow_run_status" AS ENUM ('pending', 'running', 'waiting', 'parked', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "step_run_status" AS ENUM ('pending', 'scheduled', 'running', 'waiting', 'completed', 'failed', 'parked', 'skipped', 'cancelled');

-- CreateEnum
CREATE TYPE "skill_invocation_status" AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out');

-- CreateEnum
CREATE TYPE "decision_status" AS ENUM ('pending', 'escalated', 'resolved', 'timed_out');

-- CreateEnum
CREATE TYPE "decision_resolver" AS ENUM ('autonomous', 'preference', 'human', 'timeout');

-- CreateEnum
CREATE TYPE "escalation_batch_status" AS ENUM ('open', 'sent', 'answered', 'expired');

-- CreateEnum
CREATE TYPE "preference_status" AS ENUM ('active', 'revoked');

-- CreateTable
CREATE TABLE "tenants" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "status" "session_status" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "context_entries" (
    "id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "type" TEXT NOT NULL,
    "relevance" DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    "access_count" INTEGER NOT NULL DEFAULT 0,
    "last_accessed_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "context_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tasks" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "session_id" TEXT,
    "kind" "task_kind" NOT NULL,
    "skill" TEXT,
    "workflow_name" TEXT,
    "workflow_version" INTEGER,
    "input" JSONB NOT NULL,
    "output" JSONB,
    "error" JSONB,
    "status" "task_status" NOT NULL DEFAULT 'pending',
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tasks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_definitions" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL DEFAULT 'system',
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "definition" JSONB NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "first_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "workflow_definitions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workflow_runs" (
    "id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "definition_id" TEXT NOT NULL,
    "workflow_name" TEXT NOT NULL,
    "workflow_version" INTEGER NOT NULL,
    "status" "workflow_run_status" NOT NULL DEFAULT 'pending',
    "input" JSONB NOT NULL,
    "output" JSONB,
    "error" JSONB,
    "parent_run_id" TEXT,
    "parent_step_run_id" TEXT,
    "deadline_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "step_runs" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "step_path" TEXT NOT NULL,
    "status" "step_run_status" NOT NULL DEFAULT 'pending',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "input" JSONB,
    "output" JSONB,
    "error" JSONB,
    "scheduled_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "step_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "skill_invocations" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "task_id" TEXT NOT NULL,
    "step_run_id" TEXT,
    "skill" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" "skill_invocation_status" NOT NULL DEFAULT 'pending',
    "requester" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "output" JSONB,
    "output_ref" TEXT,
    "error" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "skill_invocations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "decisions" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "task_id" TEXT,
    "run_id" TEXT,
    "step_run_id" TEXT,
    "type" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "proposal" JSONB,
    "context" JSONB NOT NULL,
    "status" "decision_status" NOT NULL DEFAULT 'pending',
    "resolution" JSONB,
    "resolved_by" "decision_resolver",
    "score" DOUBLE PRECISION,
    "policy_version" TEXT,
    "reasons" JSONB,
    "batch_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "escalation_batches" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "status" "escalation_batch_status" NOT NULL DEFAULT 'open',
    "item_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "escalation_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "escalation_answers" (
    "id" TEXT NOT NULL,
    "decision_id" TEXT NOT NULL,
    "batch_id" TEXT NOT NULL,
    "answer" JSONB NOT NULL,
    "answered_by" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "escalation_answers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "learned_preferences" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "decision_type" TEXT NOT NULL,
    "attributes" JSONB NOT NULL,
    "choice" JSONB NOT NULL,
    "evidence" INTEGER NOT NULL,
    "confidence_lower" DOUBLE PRECISION NOT NULL,
    "status" "preference_status" NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "learned_preferences_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "escalation_rule_sets" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "rules" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "escalation_rule_sets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_snapshots" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "weights" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" BIGSERIAL NOT NULL,
    "event_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "headers" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "consumer" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("consumer","event_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");

-- CreateIndex
CREATE INDEX "sessions_tenant_id_status_idx" ON "sessions"("tenant_id", "status");

-- CreateIndex
CREATE INDEX "context_entries_expires_at_idx" ON "context_entries"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "context_entries_session_id_key_key" ON "context_entries"("session_id", "key");

-- CreateIndex
CREATE INDEX "tasks_tenant_id_created_at_idx" ON "tasks"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "tasks_session_id_idx" ON "tasks"("session_id");

-- CreateIndex
CREATE UNIQUE INDEX "tasks_tenant_id_idempotency_key_key" ON "tasks"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "workflow_definitions_tenant_id_name_version_key" ON "workflow_definitions"("tenant_id", "name", "version");

-- CreateIndex
CREATE INDEX "workflow_runs_task_id_idx" ON "workflow_runs"("task_id");

-- CreateIndex
CREATE INDEX "workflow_runs_parent_run_id_idx" ON "workflow_runs"("parent_run_id");

-- CreateIndex
CREATE INDEX "workflow_runs_status_deadline_at_idx" ON "workflow_runs"("status", "deadline_at");

-- CreateIndex
CREATE INDEX "workflow_runs_tenant_id_created_at_idx" ON "workflow_runs"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "step_runs_status_lease_expires_at_idx" ON "step_runs"("status", "lease_expires_at");

-- CreateIndex
CREATE INDEX "step_runs_status_next_attempt_at_idx" ON "step_runs"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "step_runs_run_id_step_path_key" ON "step_runs"("run_id", "step_path");

-- CreateIndex
CREATE INDEX "skill_invocations_task_id_idx" ON "skill_invocations"("task_id");

-- CreateIndex
CREATE INDEX "skill_invocations_step_run_id_idx" ON "skill_invocations"("step_run_id");

-- CreateIndex
CREATE INDEX "decisions_tenant_id_status_idx" ON "decisions"("tenant_id", "status");

-- CreateIndex
CREATE INDEX "decisions_task_id_idx" ON "decisions"("task_id");

-- CreateIndex
CREATE INDEX "decisions_run_id_idx" ON "decisions"("run_id");

-- CreateIndex
CREATE INDEX "decisions_step_run_id_idx" ON "decisions"("step_run_id");

-- CreateIndex
CREATE INDEX "decisions_batch_id_idx" ON "decisions"("batch_id");

-- CreateIndex
CREATE INDEX "escalation_batches_tenant_id_recipient_status_idx" ON "escalation_batches"("tenant_id", "recipient", "status");

-- CreateIndex
CREATE UNIQUE INDEX "escalation_answers_idempotency_key_key" ON "escalation_answers"("idempotency_key");

-- CreateIndex
CREATE INDEX "escalation_answers_decision_id_idx" ON "escalation_answers"("decision_id");

-- CreateIndex
CREATE INDEX "escalation_answers_batch_id_idx" ON "escalation_answers"("batch_id");

-- CreateIndex
CREATE INDEX "learned_preferences_tenant_id_decision_type_status_idx" ON "learned_preferences"("tenant_id", "decision_type", "status");

-- CreateIndex
CREATE UNIQUE INDEX "escalation_rule_sets_tenant_id_version_key" ON "escalation_rule_sets"("tenant_id", "version");

-- CreateIndex
CREATE INDEX "model_snapshots_tenant_id_kind_version_idx" ON "model_snapshots"("tenant_id", "kind", "version");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "outbox"("event_id");

-- CreateIndex
CREATE INDEX "inbox_processed_at_idx" ON "inbox"("processed_at");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "context_entries" ADD CONSTRAINT "context_entries_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_definition_id_fkey" FOREIGN KEY ("definition_id") REFERENCES "workflow_definitions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_parent_run_id_fkey" FOREIGN KEY ("parent_run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_parent_step_run_id_fkey" FOREIGN KEY ("parent_step_run_id") REFERENCES "step_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "step_runs" ADD CONSTRAINT "step_runs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "skill_invocations" ADD CONSTRAINT "skill_invocations_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "skill_invocations" ADD CONSTRAINT "skill_invocations_step_run_id_fkey" FOREIGN KEY ("step_run_id") REFERENCES "step_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_step_run_id_fkey" FOREIGN KEY ("step_run_id") REFERENCES "step_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "escalation_batches"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalation_answers" ADD CONSTRAINT "escalation_answers_decision_id_fkey" FOREIGN KEY ("decision_id") REFERENCES "decisions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "escalation_answers" ADD CONSTRAINT "escalation_answers_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "escalation_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
