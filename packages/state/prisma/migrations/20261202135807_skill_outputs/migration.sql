-- CreateTable
CREATE TABLE "skill_outputs" (
    "id" TEXT NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "skill_outputs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "skill_outputs_tenant_id_idx" ON "skill_outputs"("tenant_id");
