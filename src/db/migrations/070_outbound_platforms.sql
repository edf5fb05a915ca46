-- Outbound on real platforms (docs/http.md §9): client settings, suppression lists, request
-- options, and per-contact keys, outcomes and platform call state. Times are epoch milliseconds.

-- A client's caller ID, pacing limits, and the platform target of each flow ({flowID: target}).
ALTER TABLE outbound_clients ADD COLUMN caller_id TEXT;
ALTER TABLE outbound_clients ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 10;
ALTER TABLE outbound_clients ADD COLUMN calls_per_second REAL NOT NULL DEFAULT 1;
ALTER TABLE outbound_clients ADD COLUMN flow_targets TEXT NOT NULL DEFAULT '{}';

-- Numbers a client must never call (opt-outs, DND), per stage.
CREATE TABLE outbound_suppressions (
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  client_id   TEXT NOT NULL,
  number      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (stage, client_id, number)
);

ALTER TABLE outbound_requests ADD COLUMN category TEXT NOT NULL DEFAULT 'transactional'
  CHECK (category IN ('transactional', 'service', 'promotional'));
ALTER TABLE outbound_requests ADD COLUMN status_callback_url TEXT;
ALTER TABLE outbound_requests ADD COLUMN expires_at INTEGER;
ALTER TABLE outbound_requests ADD COLUMN paused_at INTEGER;
-- When the request's completion was sent to its statusCallbackUrl (set once, by one instance).
ALTER TABLE outbound_requests ADD COLUMN completed_at INTEGER;
CREATE INDEX outbound_requests_to_complete ON outbound_requests (created_at)
  WHERE status_callback_url IS NOT NULL AND completed_at IS NULL;

-- Contacts gain statuses (recorded, suppressed, expired), so the table is rebuilt (SQLite cannot
-- change a CHECK). New: the client (for per-client pacing), the keys, the call's outcome and
-- duration, busy/no-answer redials used, and the platform call in progress: `callback_key` (set
-- at each claim, the secret of /outbound/{stage}/status/{key}), `call_id`, `awaiting`
-- (callback|poll) until `awaiting_until`, and `poll_at` for Studio Executions.
CREATE TABLE outbound_contacts_v2 (
  stage             TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  req_id            TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  client_id         TEXT NOT NULL,
  number            TEXT NOT NULL,
  keys              TEXT NOT NULL DEFAULT '{}',
  status            TEXT NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'dispatched', 'recorded', 'failed', 'cancelled', 'suppressed', 'expired')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT,
  due_at            INTEGER NOT NULL,
  expires_at        INTEGER,
  lease_owner       TEXT,
  lease_until       INTEGER,
  idempotency_key   TEXT NOT NULL,
  dispatched_at     INTEGER,
  callback_key      TEXT,
  call_id           TEXT,
  awaiting          TEXT CHECK (awaiting IN ('callback', 'poll')),
  awaiting_until    INTEGER,
  poll_at           INTEGER,
  outcome           TEXT CHECK (outcome IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')),
  duration_seconds  INTEGER,
  redials           INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (stage, req_id, seq),
  UNIQUE (stage, idempotency_key),
  FOREIGN KEY (stage, req_id) REFERENCES outbound_requests (stage, req_id)
);
INSERT INTO outbound_contacts_v2 (stage, req_id, seq, client_id, number, status, attempts, last_error, due_at,
    lease_owner, lease_until, idempotency_key, dispatched_at)
  SELECT c.stage, c.req_id, c.seq, r.client_id, c.number, c.status, c.attempts, c.last_error, c.due_at,
    c.lease_owner, c.lease_until, c.idempotency_key, c.dispatched_at
  FROM outbound_contacts c JOIN outbound_requests r ON r.stage = c.stage AND r.req_id = c.req_id;
DROP TABLE outbound_contacts;
ALTER TABLE outbound_contacts_v2 RENAME TO outbound_contacts;
-- The scheduler's claim walks only contacts still waiting, oldest due first.
CREATE INDEX outbound_contacts_due ON outbound_contacts (due_at) WHERE status = 'scheduled';
-- Per-client calls in flight (pacing) and due contacts per client.
CREATE INDEX outbound_contacts_client ON outbound_contacts (stage, client_id, status);
CREATE UNIQUE INDEX outbound_contacts_callback ON outbound_contacts (callback_key) WHERE callback_key IS NOT NULL;
CREATE INDEX outbound_contacts_expiry ON outbound_contacts (expires_at) WHERE status = 'scheduled' AND expires_at IS NOT NULL;
-- Calls placed and awaiting their outcome, per client (pacing) and for Studio polling.
CREATE INDEX outbound_contacts_awaiting ON outbound_contacts (stage, client_id) WHERE awaiting IS NOT NULL;
CREATE INDEX outbound_contacts_polls ON outbound_contacts (poll_at) WHERE awaiting = 'poll';
