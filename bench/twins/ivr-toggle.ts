import express from 'express';
import { escapeXml, inTransaction, listen, seedAgents, twinApp, twinDatabase, twinPool } from './twin.js';

/**
 * Same-work twin of `ivr-toggle`: a Twilio form callback (CallSid, From) toggles the caller's
 * pause state. In one transaction: note when the call id was first seen (kept for replay
 * refusal, docs/http.md §7.1) and refuse a call older than 4 hours; the stored reply of this call
 * + step, if any, is the answer (a platform retry changes nothing); else read the agent, flip it,
 * append the event, build the TwiML and keep it as the replay row. The same reply bytes as the
 * service's toggle mode in English (Polly.Aditi, en-IN).
 */
const MAX_CALL_MS = 240 * 60_000;
const SAY = '<Say language="en-IN" voice="Polly.Aditi">';
const twiml = (says: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response>${says.map((t) => `${SAY}${escapeXml(t)}</Say>`).join('')}<Hangup/></Response>`;
const NOT_REGISTERED = twiml(['This number is not registered as an agent. Please contact your supervisor. Goodbye.']);

interface Agent {
  name: string | null;
  pause: number;
  reason: string | null;
  since: number | null;
}
const replyFor = (a: Agent, pause: number) =>
  twiml([...(a.name ? [`Hello ${a.name}.`] : []), pause ? 'You are now on break.' : 'You are now available.', 'Goodbye.']);

const TABLES = `
  CREATE TABLE agents (stage TEXT NOT NULL, cli TEXT NOT NULL, name TEXT, pause INTEGER NOT NULL DEFAULT 0,
    reason TEXT, since BIGINT, updated_at BIGINT NOT NULL, PRIMARY KEY (stage, cli));
  CREATE TABLE ivr_steps (stage TEXT NOT NULL, call_id TEXT NOT NULL, step TEXT NOT NULL, reply TEXT NOT NULL,
    created_at BIGINT NOT NULL, PRIMARY KEY (stage, call_id, step));
  CREATE TABLE ivr_calls (stage TEXT NOT NULL, call_id TEXT NOT NULL, first_seen BIGINT NOT NULL,
    PRIMARY KEY (stage, call_id));`;

type Toggle = (stage: string, cli: string, callId: string, step: string) => string | undefined | Promise<string | undefined>;

async function onPostgres(): Promise<Toggle | undefined> {
  const pool = await twinPool(`
    DROP TABLE IF EXISTS agents, pause_events, ivr_steps, ivr_calls;
    ${TABLES}
    CREATE TABLE pause_events (id BIGSERIAL PRIMARY KEY, stage TEXT NOT NULL, at BIGINT NOT NULL, cli TEXT NOT NULL,
      pause INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL, call_id TEXT, prev_pause INTEGER NOT NULL,
      prev_reason TEXT, prev_since BIGINT);`);
  if (!pool) return undefined;
  for (const a of seedAgents()) await pool.query('INSERT INTO agents (stage, cli, name, updated_at) VALUES ($1, $2, $3, $4)', [a.stage, a.cli, a.name, Date.now()]);
  return (stage, cli, callId, step) =>
    inTransaction(pool, async (c) => {
      const now = Date.now();
      const seen = await c.query<{ first_seen: number }>(
        `INSERT INTO ivr_calls (stage, call_id, first_seen) VALUES ($1, $2, $3)
         ON CONFLICT (stage, call_id) DO UPDATE SET first_seen = ivr_calls.first_seen RETURNING first_seen`,
        [stage, callId, now],
      );
      if (now - seen.rows[0]!.first_seen > MAX_CALL_MS) return undefined;
      const stored = await c.query<{ reply: string }>('SELECT reply FROM ivr_steps WHERE stage = $1 AND call_id = $2 AND step = $3', [stage, callId, step]);
      if (stored.rows[0]) return stored.rows[0].reply;
      const a = (await c.query<Agent>('SELECT name, pause, reason, since FROM agents WHERE stage = $1 AND cli = $2 FOR UPDATE', [stage, cli])).rows[0];
      if (!a) return NOT_REGISTERED;
      const pause = a.pause ? 0 : 1;
      await c.query('UPDATE agents SET pause = $1, reason = NULL, since = $2, updated_at = $2 WHERE stage = $3 AND cli = $4', [pause, now, stage, cli]);
      await c.query(
        `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
         VALUES ($1, $2, $3, $4, NULL, 'ivr', $5, $6, $7, $8)`,
        [stage, now, cli, pause, callId, a.pause, a.reason, a.since],
      );
      const xml = replyFor(a, pause);
      await c.query('INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES ($1, $2, $3, $4, $5)', [stage, callId, step, xml, now]);
      return xml;
    });
}

function onSqlite(): Toggle {
  const db = twinDatabase(`${TABLES.replace(/\)\);/g, ')) WITHOUT ROWID;')}
    CREATE TABLE pause_events (id INTEGER PRIMARY KEY, stage TEXT NOT NULL, at INTEGER NOT NULL, cli TEXT NOT NULL,
      pause INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL, call_id TEXT, prev_pause INTEGER NOT NULL,
      prev_reason TEXT, prev_since INTEGER);`);
  const seed = db.prepare('INSERT INTO agents (stage, cli, name, updated_at) VALUES (?, ?, ?, ?)');
  for (const a of seedAgents()) seed.run(a.stage, a.cli, a.name, Date.now());
  const firstSeen = db
    .prepare<[string, string, number], number>(
      `INSERT INTO ivr_calls (stage, call_id, first_seen) VALUES (?, ?, ?)
       ON CONFLICT (stage, call_id) DO UPDATE SET first_seen = first_seen RETURNING first_seen`,
    )
    .pluck();
  const replayed = db.prepare<[string, string, string], string>('SELECT reply FROM ivr_steps WHERE stage = ? AND call_id = ? AND step = ?').pluck();
  const readAgent = db.prepare<[string, string], Agent>('SELECT name, pause, reason, since FROM agents WHERE stage = ? AND cli = ?');
  const flip = db.prepare('UPDATE agents SET pause = ?, reason = NULL, since = ?, updated_at = ? WHERE stage = ? AND cli = ?');
  const appendEvent = db.prepare(
    `INSERT INTO pause_events (stage, at, cli, pause, reason, source, call_id, prev_pause, prev_reason, prev_since)
     VALUES (?, ?, ?, ?, NULL, 'ivr', ?, ?, ?, ?)`,
  );
  const keepReply = db.prepare('INSERT INTO ivr_steps (stage, call_id, step, reply, created_at) VALUES (?, ?, ?, ?, ?)');
  return db.transaction((stage: string, cli: string, callId: string, step: string): string | undefined => {
    const now = Date.now();
    if (now - firstSeen.get(stage, callId, now)! > MAX_CALL_MS) return undefined;
    const stored = replayed.get(stage, callId, step);
    if (stored !== undefined) return stored;
    const a = readAgent.get(stage, cli);
    if (!a) return NOT_REGISTERED;
    const pause = a.pause ? 0 : 1;
    flip.run(pause, now, now, stage, cli);
    appendEvent.run(stage, now, cli, pause, callId, a.pause, a.reason, a.since);
    const xml = replyFor(a, pause);
    keepReply.run(stage, callId, step, xml, now);
    return xml;
  });
}

const toggle = (await onPostgres()) ?? onSqlite();
const app = twinApp();
app.post('/ivr/:stage/inbound', express.urlencoded({ extended: false }), (req, res, next) => {
  const body = req.body as Record<string, string>;
  const send = (xml: string | undefined) => {
    if (xml === undefined) res.status(403).end();
    else res.status(200).type('application/xml; charset=utf-8').send(xml);
  };
  const out = toggle(req.params.stage, body.From ?? '', body.CallSid ?? '', `${req.path}|`);
  if (out instanceof Promise) out.then(send, next);
  else send(out);
});
listen(app);
