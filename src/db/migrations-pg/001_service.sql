-- PostgreSQL twin of migrations/001_service.sql (docs/http.md §11). Times are epoch milliseconds;
-- text is COLLATE "C" throughout, so comparisons and ORDER BY match SQLite's BINARY collation.
CREATE TABLE idempotency_keys (
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  scope       TEXT COLLATE "C" NOT NULL,
  key         TEXT COLLATE "C" NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT COLLATE "C" NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (stage, scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
