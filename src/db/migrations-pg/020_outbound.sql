-- PostgreSQL twin of migrations/020_outbound.sql.
CREATE TABLE outbound_clients (
  stage        TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  client_id    TEXT COLLATE "C" NOT NULL,
  security_id  TEXT COLLATE "C" NOT NULL,
  flows        TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL,
  PRIMARY KEY (stage, client_id)
);

CREATE TABLE outbound_requests (
  stage         TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  req_id        TEXT COLLATE "C" NOT NULL,
  client_id     TEXT COLLATE "C" NOT NULL,
  flow_id       TEXT COLLATE "C" NOT NULL,
  phonon_uuid   TEXT COLLATE "C" NOT NULL,
  scheduled_at  BIGINT NOT NULL,
  created_at    BIGINT NOT NULL,
  cancelled_at  BIGINT,
  PRIMARY KEY (stage, req_id)
);
CREATE INDEX outbound_requests_client ON outbound_requests (stage, client_id);

-- Claimed with FOR UPDATE SKIP LOCKED plus a lease, so instances never dispatch one contact twice.
CREATE TABLE outbound_contacts (
  stage            TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  req_id           TEXT COLLATE "C" NOT NULL,
  seq              INTEGER NOT NULL,
  number           TEXT COLLATE "C" NOT NULL,
  status           TEXT COLLATE "C" NOT NULL DEFAULT 'scheduled'
                   CHECK (status IN ('scheduled', 'dispatched', 'failed', 'cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT COLLATE "C",
  due_at           BIGINT NOT NULL,
  lease_owner      TEXT COLLATE "C",
  lease_until      BIGINT,
  idempotency_key  TEXT COLLATE "C" NOT NULL,
  dispatched_at    BIGINT,
  PRIMARY KEY (stage, req_id, seq),
  UNIQUE (stage, idempotency_key),
  FOREIGN KEY (stage, req_id) REFERENCES outbound_requests (stage, req_id)
);
CREATE INDEX outbound_contacts_due ON outbound_contacts (due_at) WHERE status = 'scheduled';
