-- PostgreSQL twin of migrations/010_pause.sql: agents, their pause-change log, IVR step replies.
CREATE TABLE agents (
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  cli         TEXT COLLATE "C" NOT NULL,
  name        TEXT COLLATE "C",
  account_id  TEXT COLLATE "C",
  language    TEXT COLLATE "C",
  pause       BOOLEAN NOT NULL DEFAULT false,
  reason      TEXT COLLATE "C",
  since       BIGINT,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (stage, cli)
);

-- `id` orders changes (also within one millisecond) and is what a NOTIFY carries.
CREATE TABLE pause_events (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  at          BIGINT NOT NULL,
  cli         TEXT COLLATE "C" NOT NULL,
  pause       BOOLEAN NOT NULL,
  reason      TEXT COLLATE "C",
  source      TEXT COLLATE "C" NOT NULL CHECK (source IN ('ivr', 'webhook', 'admin', 'auto')),
  call_id     TEXT COLLATE "C",
  prev_pause  BOOLEAN NOT NULL,
  prev_reason TEXT COLLATE "C",
  prev_since  BIGINT
);
CREATE INDEX pause_events_stage_at ON pause_events (stage, at);
CREATE INDEX pause_events_stage_cli_at ON pause_events (stage, cli, at);

CREATE TABLE ivr_steps (
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  call_id     TEXT COLLATE "C" NOT NULL,
  step        TEXT COLLATE "C" NOT NULL,
  reply       TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (stage, call_id, step)
);
CREATE INDEX ivr_steps_created ON ivr_steps (created_at);
