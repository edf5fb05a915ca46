import express from 'express';
import { listen, seedAgents, twinApp, twinDatabase } from './twin.js';

/**
 * Same-work twin of `webhook-toggle`: `updatePauseStatusForCLI` in JSON. In one transaction read
 * the agent; when the wanted state differs, update it and append the event. The reply is the
 * service's (docs/http.md §2.1): cli_pause_update, cli, pause, changed, since.
 */
const db = twinDatabase(`
  CREATE TABLE agents (stage TEXT NOT NULL, cli TEXT NOT NULL, name TEXT, pause INTEGER NOT NULL DEFAULT 0,
    reason TEXT, since INTEGER, updated_at INTEGER NOT NULL, PRIMARY KEY (stage, cli)) WITHOUT ROWID;
  CREATE TABLE pause_events (id INTEGER PRIMARY KEY, stage TEXT NOT NULL, at INTEGER NOT NULL, cli TEXT NOT NULL,
    pause INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL, call_id TEXT, prev_pause INTEGER NOT NULL,
    prev_reason TEXT, prev_since INTEGER);
`);
const seed = db.prepare('INSERT INTO agents (stage, cli, name, updated_at) VALUES (?, ?, ?, ?)');
for (const a of seedAgents()) seed.run(a.stage, a.cli, a.name, Date.now());

const readAgent = db.prepare<[string, string], { pause: number; reason: string | null; since: number | null }>(
  'SELECT pause, reason, since FROM agents WHERE stage = ? AND cli = ?',
);
const setState = db.prepare('UPDATE agents SET pause = ?, reason = ?, since = ?, updated_at = ? WHERE stage = ? AND cli = ?');
const appendEvent = db.prepare(
  `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
   VALUES (?, ?, ?, ?, ?, 'webhook', NULL, ?, ?, ?)`,
);

const change = db.transaction((stage: string, cli: string, pause: number, reason: string | null) => {
  const a = readAgent.get(stage, cli);
  if (!a) return { cli_pause_update: false };
  const next = pause ? reason : null;
  if (a.pause === pause && (!pause || next === null || next === a.reason)) {
    return { cli_pause_update: true, cli, pause: a.pause === 1, changed: false, since: a.since === null ? null : new Date(a.since).toISOString() };
  }
  const now = Date.now();
  setState.run(pause, next, now, now, stage, cli);
  appendEvent.run(stage, now, cli, pause, next, a.pause, a.reason, a.since);
  return { cli_pause_update: true, cli, pause: pause === 1, changed: true, since: new Date(now).toISOString() };
});

const app = twinApp();
app.post('/centraloutboundwebhook-v1/:stage/', express.json(), (req, res) => {
  const b = req.body as { cli: string; pause: boolean; reason?: string };
  res.json(change(req.params.stage, b.cli, b.pause ? 1 : 0, b.reason ?? null));
});
listen(app);
