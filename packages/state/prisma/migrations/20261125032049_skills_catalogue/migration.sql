-- CreateTable
CREATE TABLE "skills" (
    "name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "side_effects" TEXT NOT NULL,
    "timeout_ms" INTEGER NOT NULL,
    "input_schema" JSONB,
    "output_schema" JSONB,
    "registered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "skills_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "skills_category_idx" ON "skills"("category");
