-- Call ids of the inbound IVR with the time each was first seen (docs/http.md §7.1): kept at least
-- 7 days, so a callback of a call that began more than IVR_CALL_MAX_MINUTES earlier (a replay of
-- a captured request, after its stored reply is gone) is recognised and refused. `last_said` is
-- the text the call's last reply spoke, for platforms that fetch it separately (Exotel's Greeting,
-- docs/http.md §10).
CREATE TABLE ivr_calls (
  stage       TEXT NOT NULL CHECK (stage IN ('prod', 'test')),
  call_id     TEXT NOT NULL,
  first_seen  INTEGER NOT NULL,
  last_said   TEXT,
  PRIMARY KEY (stage, call_id)
) WITHOUT ROWID;
CREATE INDEX ivr_calls_first_seen ON ivr_calls (first_seen);
