-- AlterTable
ALTER TABLE "step_runs" ADD COLUMN     "deadline_at" TIMESTAMPTZ(3),
ADD COLUMN     "parent_path" TEXT,
ADD COLUMN     "wait_for" TEXT,
ADD COLUMN     "wait_key" TEXT;

-- CreateTable
CREATE TABLE "external_events" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "key" TEXT,
    "data" JSONB,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "external_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "external_events_tenant_id_name_received_at_idx" ON "external_events"("tenant_id", "name", "received_at");

-- CreateIndex
CREATE INDEX "step_runs_status_deadline_at_idx" ON "step_runs"("status", "deadline_at");

-- CreateIndex
CREATE INDEX "step_runs_wait_for_wait_key_idx" ON "step_runs"("wait_for", "wait_key");
