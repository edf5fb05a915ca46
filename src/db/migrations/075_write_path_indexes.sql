-- Only the indexes a query needs (issue 15). Every pause change, IVR step and call id writes each
-- index of its table, so an index is kept only where a query would otherwise scan a table that
-- grows with traffic. test/db/indexes.test.ts checks the plan of every statement the app prepares
-- (each index below must serve one; no growing table may be scanned).
--
-- Kept, and the query each serves:
--   pause_events_stage_at     (stage, at)       the events list of a stage by time (admin events),
--                                               and the break report's breaks ending in a window
--   pause_events_stage_cli_at (stage, cli, at)  one agent's events by time, and the report's
--                                               first change after a window, per agent
-- Dropped:
--   pause_events_break_ends   the report now reads the breaks that ended in its window through
--                             pause_events_stage_at (every change in the window, each row read
--                             from the table: ~2× the rows of the old covering index, well inside
--                             the report's budget), so half of all pause changes write one index less
--   ivr_steps_created,        the hourly prunes (DELETE … WHERE created_at / first_seen < ?) scan
--   ivr_calls_first_seen      instead: both tables hold only registered agents' own IVR calls
--                             (unknown callers store nothing), a few rows per agent a day, while
--                             every IVR step paid for both indexes
DROP INDEX pause_events_break_ends;
DROP INDEX ivr_steps_created;
DROP INDEX ivr_calls_first_seen;
