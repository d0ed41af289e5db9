-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "outbox"("created_at");
