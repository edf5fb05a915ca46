-- PostgreSQL twin of migrations/030_shorturl.sql.
CREATE TABLE short_urls (
  stage          TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  code           TEXT COLLATE "C" NOT NULL,
  token_hash     TEXT COLLATE "C" NOT NULL,
  long_url       TEXT COLLATE "C" NOT NULL,
  custom         BOOLEAN NOT NULL,
  created_at     BIGINT NOT NULL,
  expires_at     BIGINT,
  visits         BIGINT NOT NULL DEFAULT 0,
  last_visit_at  BIGINT,
  PRIMARY KEY (stage, code)
);
CREATE UNIQUE INDEX short_urls_same_link
  ON short_urls (stage, token_hash, long_url, COALESCE(expires_at, 0))
  WHERE NOT custom;
