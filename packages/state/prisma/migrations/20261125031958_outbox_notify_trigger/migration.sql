-- Hand-written (Prisma does not model triggers): wake the outbox relay once per inserting statement.
-- Channel `steward_outbox`, payload = the schema the row landed in, so one listener can serve several schemas.
CREATE FUNCTION "steward_outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('steward_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION "steward_outbox_notify"();
