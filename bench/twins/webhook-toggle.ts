import express from 'express';
import { inTransaction, listen, seedAgents, twinApp, twinDatabase, twinPool } from './twin.js';

/**
 * Same-work twin of `webhook-toggle`: `updatePauseStatusForCLI` in JSON. In one transaction read
 * the agent; when the wanted state differs, update it and append the event. The reply is the
 * service's (docs/http.md §2.1): cli_pause_update, cli, pause, changed, since.
 */
interface Agent {
  pause: number;
  reason: string | null;
  since: number | null;
}
type Reply = Record<string, unknown>;
type Change = (stage: string, cli: string, pause: number, reason: string | null) => Reply | Promise<Reply>;

/** The decision of docs/http.md §2.1: the new state, or null when the agent already has it. */
function next(a: Agent, pause: number, reason: string | null): { reason: string | null } | null {
  const r = pause ? reason : null;
  if (a.pause === pause && (!pause || r === null || r === a.reason)) return null;
  return { reason: r };
}
const unchanged = (cli: string, a: Agent): Reply => ({
  cli_pause_update: true,
  cli,
  pause: a.pause === 1,
  changed: false,
  since: a.since === null ? null : new Date(a.since).toISOString(),
});
const changed = (cli: string, pause: number, now: number): Reply => ({ cli_pause_update: true, cli, pause: pause === 1, changed: true, since: new Date(now).toISOString() });

const TABLE = `CREATE TABLE agents (stage TEXT NOT NULL, cli TEXT NOT NULL, name TEXT, pause INTEGER NOT NULL DEFAULT 0,
    reason TEXT, since BIGINT, updated_at BIGINT NOT NULL, PRIMARY KEY (stage, cli))`;

async function onPostgres(): Promise<Change | undefined> {
  const pool = await twinPool(`
    DROP TABLE IF EXISTS agents, pause_events;
    ${TABLE};
    CREATE TABLE pause_events (id BIGSERIAL PRIMARY KEY, stage TEXT NOT NULL, at BIGINT NOT NULL, cli TEXT NOT NULL,
      pause INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL, call_id TEXT, prev_pause INTEGER NOT NULL,
      prev_reason TEXT, prev_since BIGINT);`);
  if (!pool) return undefined;
  for (const a of seedAgents()) await pool.query('INSERT INTO agents (stage, cli, name, updated_at) VALUES ($1, $2, $3, $4)', [a.stage, a.cli, a.name, Date.now()]);
  return (stage, cli, pause, reason) =>
    inTransaction(pool, async (c) => {
      const a = (await c.query<Agent>('SELECT pause, reason, since FROM agents WHERE stage = $1 AND cli = $2 FOR UPDATE', [stage, cli])).rows[0];
      if (!a) return { cli_pause_update: false };
      const n = next(a, pause, reason);
      if (!n) return unchanged(cli, a);
      const now = Date.now();
      await c.query('UPDATE agents SET pause = $1, reason = $2, since = $3, updated_at = $3 WHERE stage = $4 AND cli = $5', [pause, n.reason, now, stage, cli]);
      await c.query(
        `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
         VALUES ($1, $2, $3, $4, $5, 'webhook', NULL, $6, $7, $8)`,
        [stage, now, cli, pause, n.reason, a.pause, a.reason, a.since],
      );
      return changed(cli, pause, now);
    });
}

function onSqlite(): Change {
  const db = twinDatabase(`${TABLE} WITHOUT ROWID;
    CREATE TABLE pause_events (id INTEGER PRIMARY KEY, stage TEXT NOT NULL, at INTEGER NOT NULL, cli TEXT NOT NULL,
      pause INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL, call_id TEXT, prev_pause INTEGER NOT NULL,
      prev_reason TEXT, prev_since INTEGER);`);
  const seed = db.prepare('INSERT INTO agents (stage, cli, name, updated_at) VALUES (?, ?, ?, ?)');
  for (const a of seedAgents()) seed.run(a.stage, a.cli, a.name, Date.now());
  const readAgent = db.prepare<[string, string], Agent>('SELECT pause, reason, since FROM agents WHERE stage = ? AND cli = ?');
  const setState = db.prepare('UPDATE agents SET pause = ?, reason = ?, since = ?, updated_at = ? WHERE stage = ? AND cli = ?');
  const appendEvent = db.prepare(
    `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
     VALUES (?, ?, ?, ?, ?, 'webhook', NULL, ?, ?, ?)`,
  );
  return db.transaction((stage: string, cli: string, pause: number, reason: string | null): Reply => {
    const a = readAgent.get(stage, cli);
    if (!a) return { cli_pause_update: false };
    const n = next(a, pause, reason);
    if (!n) return unchanged(cli, a);
    const now = Date.now();
    setState.run(pause, n.reason, now, now, stage, cli);
    appendEvent.run(stage, now, cli, pause, n.reason, a.pause, a.reason, a.since);
    return changed(cli, pause, now);
  });
}

const change = (await onPostgres()) ?? onSqlite();
const app = twinApp();
app.post('/centraloutboundwebhook-v1/:stage/', express.json(), (req, res, next) => {
  const b = req.body as { cli: string; pause: boolean; reason?: string };
  const out = change(req.params.stage, b.cli, b.pause ? 1 : 0, b.reason ?? null);
  if (out instanceof Promise) out.then((r) => res.json(r), next);
  else res.json(out);
});
listen(app);
