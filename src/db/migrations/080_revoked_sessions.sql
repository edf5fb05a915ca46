-- Supervisor sessions ended by POST /admin/logout (docs/http.md §8.2): the session id from the
-- signed cookie, kept until the cookie would have expired anyway (epoch ms). Every cookie request
-- looks its id up by primary key; inserts delete rows whose expiry passed (index below).
CREATE TABLE revoked_sessions (
  id          TEXT NOT NULL PRIMARY KEY,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_sessions_expires_at ON revoked_sessions (expires_at);
