-- Hand-written (Prisma does not model triggers): the outbox no longer announces inserts with NOTIFY.
-- The process that commits outbox rows publishes them itself right after commit; the relays' sweep for rows left
-- behind (a crash between commit and publish, NATS down) polls. A NOTIFY on every commit woke the LISTEN
-- connection of every service for nothing, which cost more CPU than the whole sweep.
DROP TRIGGER IF EXISTS "outbox_notify" ON "outbox";
DROP FUNCTION IF EXISTS "steward_outbox_notify"();
