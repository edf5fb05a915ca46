-- PostgreSQL twin of migrations/070_outbound_platforms.sql (docs/http.md §9).
ALTER TABLE outbound_clients ADD COLUMN caller_id TEXT COLLATE "C";
ALTER TABLE outbound_clients ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 10;
ALTER TABLE outbound_clients ADD COLUMN calls_per_second DOUBLE PRECISION NOT NULL DEFAULT 1;
ALTER TABLE outbound_clients ADD COLUMN flow_targets TEXT COLLATE "C" NOT NULL DEFAULT '{}';

CREATE TABLE outbound_suppressions (
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  client_id   TEXT COLLATE "C" NOT NULL,
  number      TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (stage, client_id, number)
);

ALTER TABLE outbound_requests ADD COLUMN category TEXT COLLATE "C" NOT NULL DEFAULT 'transactional'
  CHECK (category IN ('transactional', 'service', 'promotional'));
ALTER TABLE outbound_requests ADD COLUMN status_callback_url TEXT COLLATE "C";
ALTER TABLE outbound_requests ADD COLUMN expires_at BIGINT;
ALTER TABLE outbound_requests ADD COLUMN paused_at BIGINT;
-- When the request's completion was sent to its statusCallbackUrl (set once, by one instance).
ALTER TABLE outbound_requests ADD COLUMN completed_at BIGINT;
CREATE INDEX outbound_requests_to_complete ON outbound_requests (created_at)
  WHERE status_callback_url IS NOT NULL AND completed_at IS NULL;

ALTER TABLE outbound_contacts DROP CONSTRAINT outbound_contacts_status_check;
ALTER TABLE outbound_contacts ADD CONSTRAINT outbound_contacts_status_check
  CHECK (status IN ('scheduled', 'dispatched', 'recorded', 'failed', 'cancelled', 'suppressed', 'expired'));
ALTER TABLE outbound_contacts ADD COLUMN client_id TEXT COLLATE "C";
UPDATE outbound_contacts c SET client_id = r.client_id FROM outbound_requests r WHERE r.stage = c.stage AND r.req_id = c.req_id;
ALTER TABLE outbound_contacts ALTER COLUMN client_id SET NOT NULL;
ALTER TABLE outbound_contacts ADD COLUMN keys TEXT COLLATE "C" NOT NULL DEFAULT '{}';
ALTER TABLE outbound_contacts ADD COLUMN expires_at BIGINT;
ALTER TABLE outbound_contacts ADD COLUMN callback_key TEXT COLLATE "C";
ALTER TABLE outbound_contacts ADD COLUMN call_id TEXT COLLATE "C";
ALTER TABLE outbound_contacts ADD COLUMN awaiting TEXT COLLATE "C" CHECK (awaiting IN ('callback', 'poll'));
ALTER TABLE outbound_contacts ADD COLUMN awaiting_until BIGINT;
ALTER TABLE outbound_contacts ADD COLUMN poll_at BIGINT;
ALTER TABLE outbound_contacts ADD COLUMN outcome TEXT COLLATE "C" CHECK (outcome IN ('completed', 'busy', 'no-answer', 'failed', 'canceled'));
ALTER TABLE outbound_contacts ADD COLUMN duration_seconds INTEGER;
ALTER TABLE outbound_contacts ADD COLUMN redials INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbound_contacts_client ON outbound_contacts (stage, client_id, status);
CREATE UNIQUE INDEX outbound_contacts_callback ON outbound_contacts (callback_key) WHERE callback_key IS NOT NULL;
CREATE INDEX outbound_contacts_expiry ON outbound_contacts (expires_at) WHERE status = 'scheduled' AND expires_at IS NOT NULL;
CREATE INDEX outbound_contacts_awaiting ON outbound_contacts (stage, client_id) WHERE awaiting IS NOT NULL;
CREATE INDEX outbound_contacts_polls ON outbound_contacts (poll_at) WHERE awaiting = 'poll';
