-- PostgreSQL twin of migrations/080_revoked_sessions.sql.
CREATE TABLE revoked_sessions (
  id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  expires_at  BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_expires_at ON revoked_sessions (expires_at);
