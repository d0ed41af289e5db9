-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "decision_status" ADD VALUE 'withdrawn';

ALTER TYPE "preference_status" ADD VALUE 'candidate';
ALTER TYPE "preference_status" ADD VALUE 'demoted';

-- AlterTable
ALTER TABLE "decisions" ADD COLUMN     "audit" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "audit_weight" DOUBLE PRECISION,
ADD COLUMN     "fallback" TEXT,
ADD COLUMN     "fallback_at" TIMESTAMPTZ(3),
ADD COLUMN     "recipient" TEXT NOT NULL DEFAULT 'default',
ADD COLUMN     "reviewed_at" TIMESTAMPTZ(3),
ADD COLUMN     "threshold" DOUBLE PRECISION,
ADD COLUMN     "urgency" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "escalation_batches" ADD COLUMN     "due_at" TIMESTAMPTZ(3),
ADD COLUMN     "trigger" TEXT;

-- AlterTable
ALTER TABLE "learned_preferences" ADD COLUMN     "agreement" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "decisions_status_fallback_at_idx" ON "decisions"("status", "fallback_at");

-- CreateIndex
CREATE INDEX "escalation_batches_status_due_at_idx" ON "escalation_batches"("status", "due_at");
