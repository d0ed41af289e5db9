-- AlterTable
ALTER TABLE "skill_invocations" ADD COLUMN     "dispatched_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "skill_invocations_status_dispatched_at_idx" ON "skill_invocations"("status", "dispatched_at");
