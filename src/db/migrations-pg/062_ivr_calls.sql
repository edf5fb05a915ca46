-- Twin of migrations/062: IVR call ids with the time each was first seen (docs/http.md §7.1).
CREATE TABLE ivr_calls (
  stage       TEXT COLLATE "C" NOT NULL CHECK (stage IN ('prod', 'test')),
  call_id     TEXT COLLATE "C" NOT NULL,
  first_seen  BIGINT NOT NULL,
  last_said   TEXT COLLATE "C",
  PRIMARY KEY (stage, call_id)
);
CREATE INDEX ivr_calls_first_seen ON ivr_calls (first_seen);
