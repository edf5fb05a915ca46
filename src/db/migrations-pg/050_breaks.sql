-- PostgreSQL twin of migrations/050_breaks.sql: the breaks that ended, in time order per stage.
CREATE INDEX pause_events_break_ends ON pause_events (stage, at, cli, prev_since, prev_reason) WHERE prev_pause;
