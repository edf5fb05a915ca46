-- Outbound calls (docs/http.md §2.3, 2.4 and the clients part of 6). Times are epoch milliseconds.

-- A client of the outbound API per stage: its 64-character security ID and the flows it may start.
CREATE TABLE outbound_clients (
  stage        TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  client_id    TEXT NOT NULL,
  security_id  TEXT NOT NULL,
  flows        TEXT NOT NULL DEFAULT '[]', -- JSON array of 8-character flow IDs
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (stage, client_id)
);

-- One acknowledged createOutbound call.
CREATE TABLE outbound_requests (
  stage         TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  req_id        TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  flow_id       TEXT NOT NULL,
  phonon_uuid   TEXT NOT NULL,
  scheduled_at  INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  cancelled_at  INTEGER,
  PRIMARY KEY (stage, req_id)
);
CREATE INDEX outbound_requests_client ON outbound_requests (stage, client_id);

-- One number of a request: the unit the scheduler claims and the dialer dispatches.
-- A claim sets lease_owner/lease_until and counts the attempt; a contact whose lease ran out while
-- still 'scheduled' was never confirmed by the dialer and is claimed again with the same
-- idempotency_key, so the platform can de-duplicate.
CREATE TABLE outbound_contacts (
  stage            TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  req_id           TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  number           TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'scheduled'
                   CHECK (status IN ('scheduled', 'dispatched', 'failed', 'cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT,
  due_at           INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_until      INTEGER,
  idempotency_key  TEXT NOT NULL,
  dispatched_at    INTEGER,
  PRIMARY KEY (stage, req_id, seq),
  UNIQUE (stage, idempotency_key),
  FOREIGN KEY (stage, req_id) REFERENCES outbound_requests (stage, req_id)
);
-- The scheduler's claim walks only contacts still waiting, oldest due first.
CREATE INDEX outbound_contacts_due ON outbound_contacts (due_at) WHERE status = 'scheduled';
