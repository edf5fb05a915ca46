-- pause_events without AUTOINCREMENT (issue 15): AUTOINCREMENT makes every pause change also
-- update sqlite_sequence, one more b-tree page written per change (about 6 µs of CPU a change,
-- measured on the webhook's transaction). The log is append-only (no row is ever deleted), so a
-- plain INTEGER PRIMARY KEY (max(id) + 1) hands out the same increasing ids. SQLite cannot drop
-- AUTOINCREMENT in place: the table is rebuilt with the same ids, columns, checks and indexes.
-- The outbox's change notifications reference events by id (085): they are set aside while the
-- old table is dropped (foreign keys are on) and put back, unchanged, into the same outbox.
-- PostgreSQL's identity column has no such cost (migrations-pg/010).
CREATE TEMP TABLE outbox_pause_rows AS SELECT * FROM outbox WHERE event_id IS NOT NULL;
DELETE FROM outbox WHERE event_id IS NOT NULL;

CREATE TABLE pause_events_rebuilt (
  id          INTEGER PRIMARY KEY,
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  at          INTEGER NOT NULL,
  cli         TEXT NOT NULL,
  pause       INTEGER NOT NULL CHECK (pause IN (0, 1)),
  reason      TEXT,
  source      TEXT NOT NULL CHECK (source IN ('ivr', 'webhook', 'admin', 'auto')),
  call_id     TEXT,
  prev_pause  INTEGER NOT NULL CHECK (prev_pause IN (0, 1)),
  prev_reason TEXT,
  prev_since  INTEGER
);
INSERT INTO pause_events_rebuilt (id, stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
  SELECT id, stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since FROM pause_events ORDER BY id;
DROP TABLE pause_events;
ALTER TABLE pause_events_rebuilt RENAME TO pause_events;
DELETE FROM sqlite_sequence WHERE name = 'pause_events';

-- The indexes of 010 and 050, each serving the queries named in 075.
CREATE INDEX pause_events_stage_at ON pause_events (stage, at);
CREATE INDEX pause_events_stage_cli_at ON pause_events (stage, cli, at);
CREATE INDEX pause_events_break_ends ON pause_events (stage, at, cli, prev_since, prev_reason) WHERE prev_pause = 1;

INSERT INTO outbox SELECT * FROM outbox_pause_rows;
DROP TABLE outbox_pause_rows;
