-- PostgreSQL twin of migrations/040_userprefs.sql. Names keep their case.
CREATE TABLE user_preferences (
  stage           TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  account_id      TEXT COLLATE "C" NOT NULL,
  contact_number  TEXT COLLATE "C" NOT NULL,
  name            TEXT COLLATE "C" NOT NULL,
  value           TEXT COLLATE "C" NOT NULL,
  updated_at      BIGINT NOT NULL,
  PRIMARY KEY (stage, account_id, contact_number, name)
);
