-- Idempotency records shared by every webhook that accepts an Idempotency-Key (e.g. createOutbound):
-- the first response is kept per stage, scope (client) and key for 24 h.
CREATE TABLE idempotency_keys (
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  scope       TEXT NOT NULL,
  key         TEXT NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (stage, scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
