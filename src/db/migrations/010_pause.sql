-- Agents of a direct dialer, per stage, keyed by their CLI in E.164 (docs/http.md §2.1, 2.2, 6).
-- `since` is when the current pause state began (ms since the epoch); NULL until the first change.
CREATE TABLE agents (
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  cli         TEXT NOT NULL,
  name        TEXT,
  account_id  TEXT,
  language    TEXT,
  pause       INTEGER NOT NULL DEFAULT 0 CHECK (pause IN (0, 1)),
  reason      TEXT,
  since       INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (stage, cli)
) WITHOUT ROWID;

-- Append-only log of pause changes, written in the same transaction as the agent row.
-- `at` is ms since the epoch; `id` orders changes within one millisecond.
-- prev_* describe the state this change ended, so a break (prev_pause = 1) can be read from one
-- row: it ran from prev_since to at with reason prev_reason. A reason change while paused is a
-- row with pause = 1 and prev_pause = 1: one break closes and the next opens.
CREATE TABLE pause_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX pause_events_stage_at ON pause_events (stage, at);
CREATE INDEX pause_events_stage_cli_at ON pause_events (stage, cli, at);

-- Replies already given to an IVR step, so a platform retry of the same call id + step gets the
-- same reply and changes nothing twice (docs/http.md §4). Pruned after a day.
CREATE TABLE ivr_steps (
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  call_id     TEXT NOT NULL,
  step        TEXT NOT NULL,
  reply       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (stage, call_id, step)
) WITHOUT ROWID;
CREATE INDEX ivr_steps_created ON ivr_steps (created_at);
