-- Break reports and the supervisor board read breaks from the pause-change log: a row with
-- prev_pause = 1 ends a break that ran from prev_since to at with reason prev_reason (010).
-- This partial, covering index holds only those rows, in time order per stage, so a report over a
-- window reads just the breaks that ended in it, without touching the table.
CREATE INDEX pause_events_break_ends ON pause_events (stage, at, cli, prev_since, prev_reason) WHERE prev_pause = 1;
