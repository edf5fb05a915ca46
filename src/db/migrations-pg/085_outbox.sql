-- PostgreSQL twin of migrations/085_outbox.sql: one outbox for every signed delivery, change
-- notifications (`pause.changed`) and statusCallbackUrl deliveries (`outbound.*`), replacing
-- event_outbox. Rows are written in the state change's own transaction and claimed with
-- FOR UPDATE SKIP LOCKED under a lease, so each goes out from one instance at a time.
CREATE TABLE outbox (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type         TEXT COLLATE "C" NOT NULL CHECK (type IN ('pause.changed', 'outbound.contact', 'outbound.completed')),
  event_id     BIGINT REFERENCES pause_events (id),
  name         TEXT COLLATE "C",
  url          TEXT COLLATE "C",
  delivery_id  TEXT COLLATE "C",
  body         TEXT,
  order_key    TEXT COLLATE "C",
  attempts     INTEGER NOT NULL DEFAULT 0,
  due_at       BIGINT NOT NULL DEFAULT 0,
  lease_owner  TEXT COLLATE "C",
  lease_until  BIGINT,
  CHECK ((type = 'pause.changed') = (event_id IS NOT NULL)),
  CHECK ((type = 'pause.changed') = (url IS NULL AND delivery_id IS NULL AND body IS NULL))
);
CREATE INDEX outbox_due ON outbox (due_at);
CREATE INDEX outbox_order ON outbox (order_key, id) WHERE order_key IS NOT NULL;
INSERT INTO outbox (type, event_id, name, attempts, due_at, lease_owner, lease_until)
  SELECT 'pause.changed', event_id, name, attempts, due_at, lease_owner, lease_until FROM event_outbox ORDER BY event_id;
DROP TABLE event_outbox;
