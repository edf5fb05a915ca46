-- One time-ordered index of pause_events instead of two (issue 15). pause_events_stage_at served a
-- stage's events by time (the admin events list) and the partial pause_events_break_ends the break
-- report's and board's breaks that ended in a window; every change that ends a break wrote both.
-- pause_events_by_time serves both queries: (stage, at, id) is the list's order, and with the
-- break columns the report reads the breaks of a window from the index alone (prev_pause = 1
-- checked in the index). The report now also passes over the window's other changes, which
-- measured the same on 400,000 events (the rows it returns dominate); each change that ends a
-- break writes one index page fewer (about one WAL frame in two pause changes).
-- pause_events_stage_cli_at (one agent's events; the report's first change after a window) stays.
-- PostgreSQL keeps its own indexes (migrations-pg/010, 050): its planner and queries differ.
DROP INDEX pause_events_stage_at;
DROP INDEX pause_events_break_ends;
CREATE INDEX pause_events_by_time ON pause_events (stage, at, id, prev_pause, cli, prev_since, prev_reason);
