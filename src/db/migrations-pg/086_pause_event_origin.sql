-- PostgreSQL only (no SQLite twin: one SQLite process has no peers). The instance that made each
-- pause change, so that an instance catching up on changes after its listening connection was
-- lost replays only other instances' changes (src/events/pgBus.ts, docs/http.md §11). NULL for
-- changes made before this migration.
ALTER TABLE pause_events ADD COLUMN origin TEXT COLLATE "C";
