-- PostgreSQL twin of migrations/070_event_outbox.sql: change notifications waiting to go to
-- EVENTS_WEBHOOK_URL, one row per pause event, written in the change's own transaction, claimed
-- with FOR UPDATE SKIP LOCKED under a lease so each event is sent by one instance at a time.
CREATE TABLE event_outbox (
  event_id     BIGINT PRIMARY KEY REFERENCES pause_events (id),
  name         TEXT COLLATE "C",
  attempts     INTEGER NOT NULL DEFAULT 0,
  due_at       BIGINT NOT NULL DEFAULT 0,
  lease_owner  TEXT COLLATE "C",
  lease_until  BIGINT
);
CREATE INDEX event_outbox_due ON event_outbox (due_at);
