-- PostgreSQL twin of migrations/075_write_path_indexes.sql: the hourly prunes of ivr_steps and
-- ivr_calls scan those small tables instead of every IVR step writing two more indexes.
DROP INDEX ivr_steps_created;
DROP INDEX ivr_calls_first_seen;
