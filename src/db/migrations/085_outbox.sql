-- One outbox for every signed delivery (docs/http.md §9.6, §11), replacing event_outbox: change
-- notifications (`pause.changed`, to EVENTS_WEBHOOK_URL) and createOutbound's statusCallbackUrl
-- deliveries (`outbound.contact`, `outbound.completed`, to the request's own URL). Each row is
-- written in the transaction of the state change it reports, claimed by one sender at a time
-- under a lease, and deleted once delivered or given up. Scheduling times are real time (ms).
--   pause.changed: `event_id` names the pause event (its row is the body's source, read when it
--     is sent) and `name` the agent's name at the change; url, delivery_id and body are NULL.
--   outbound.*: `url`, `delivery_id` (X-Central-Event-Id, the body's `id`) and the JSON `body`
--     are fixed when the row is written; `order_key` (the request) makes one request's
--     deliveries go out one at a time, in row order: its contacts' ends, then its completion.
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  type         TEXT NOT NULL CHECK (type IN ('pause.changed', 'outbound.contact', 'outbound.completed')),
  event_id     INTEGER REFERENCES pause_events (id),
  name         TEXT,
  url          TEXT,
  delivery_id  TEXT,
  body         TEXT,
  order_key    TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  due_at       INTEGER NOT NULL DEFAULT 0,
  lease_owner  TEXT,
  lease_until  INTEGER,
  CHECK ((type = 'pause.changed') = (event_id IS NOT NULL)),
  CHECK ((type = 'pause.changed') = (url IS NULL AND delivery_id IS NULL AND body IS NULL))
);
CREATE INDEX outbox_due ON outbox (due_at);
-- Only rows that are ordered (outbound): a change notification's insert does not write it.
CREATE INDEX outbox_order ON outbox (order_key, id) WHERE order_key IS NOT NULL;
INSERT INTO outbox (type, event_id, name, attempts, due_at, lease_owner, lease_until)
  SELECT 'pause.changed', event_id, name, attempts, due_at, lease_owner, lease_until FROM event_outbox ORDER BY event_id;
DROP TABLE event_outbox;
