-- Short URLs (docs/http.md §3). The redirect path `/{code}` carries no stage, so every link lives in
-- the public 'prod' stage; the column keeps the schema's stage-in-the-key rule uniform.
-- `code` is the random code or the custom slug (one namespace: the PRIMARY KEY makes a race for
-- one slug end in exactly one winner). The token is stored as its SHA-256, never in clear.
CREATE TABLE short_urls (
  stage          TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  code           TEXT NOT NULL,
  token_hash     TEXT NOT NULL,
  long_url       TEXT NOT NULL,
  custom         INTEGER NOT NULL CHECK (custom IN (0, 1)),
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER,
  visits         INTEGER NOT NULL DEFAULT 0,
  last_visit_at  INTEGER,
  PRIMARY KEY (stage, code)
);
-- Find-if-exists without a race: one generated code per token + long URL + expiry.
CREATE UNIQUE INDEX short_urls_same_link
  ON short_urls (stage, token_hash, long_url, ifnull(expires_at, 0))
  WHERE custom = 0;
