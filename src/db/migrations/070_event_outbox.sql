-- Change notifications waiting to go to EVENTS_WEBHOOK_URL (docs/http.md §11): one row per pause
-- event, written in the change's own transaction, claimed by a sender under a lease (like outbound
-- contacts) so each event is sent by one instance, and deleted once delivered or given up.
-- `name` is the agent's name at the change. Scheduling times are real time (ms since the epoch).
CREATE TABLE event_outbox (
  event_id     INTEGER PRIMARY KEY REFERENCES pause_events (id),
  name         TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  due_at       INTEGER NOT NULL DEFAULT 0,
  lease_owner  TEXT,
  lease_until  INTEGER
);
CREATE INDEX event_outbox_due ON event_outbox (due_at);
