-- User preferences (docs/http.md §2.5): one row per key, so concurrent updates of different keys are
-- independent upserts. Names keep their case (BINARY collation); values are kept as text.
CREATE TABLE user_preferences (
  stage           TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  account_id      TEXT NOT NULL,
  contact_number  TEXT NOT NULL,
  name            TEXT NOT NULL,
  value           TEXT NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (stage, account_id, contact_number, name)
) WITHOUT ROWID;
