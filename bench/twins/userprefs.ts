import express from 'express';
import { inTransaction, listen, twinApp, twinDatabase, twinPool } from './twin.js';

/**
 * Same-work twin of `userprefs`: `updateUserPreferences` with a `key` object. In one transaction
 * upsert each key, then read back every key of the caller for the reply (docs/http.md §2.5).
 * The number becomes E.164 by prefixing +91 when it has no +, the one normalisation the bench's
 * numbers need.
 */
const TABLE = `CREATE TABLE user_preferences (stage TEXT NOT NULL, account_id TEXT NOT NULL, contact_number TEXT NOT NULL,
    name TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (stage, account_id, contact_number, name))`;
const UPSERT = `INSERT INTO user_preferences (stage, account_id, contact_number, name, value, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
   ON CONFLICT (stage, account_id, contact_number, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
const LIST = 'SELECT name, value FROM user_preferences WHERE stage = $1 AND account_id = $2 AND contact_number = $3 ORDER BY name';

type Update = (stage: string, account: string, number: string, keys: Record<string, unknown>) => [string, string][] | Promise<[string, string][]>;

async function onPostgres(): Promise<Update | undefined> {
  const pool = await twinPool(`DROP TABLE IF EXISTS user_preferences; ${TABLE};`);
  if (!pool) return undefined;
  return (stage, account, number, keys) =>
    inTransaction(pool, async (c) => {
      const now = Date.now();
      for (const [name, value] of Object.entries(keys)) await c.query(UPSERT, [stage, account, number, name, String(value), now]);
      return (await c.query({ text: LIST, values: [stage, account, number], rowMode: 'array' })).rows as [string, string][];
    });
}

function onSqlite(): Update {
  const db = twinDatabase(`${TABLE} WITHOUT ROWID;`);
  const upsert = db.prepare(UPSERT.replace(/\$\d/g, '?'));
  const list = db.prepare(LIST.replace(/\$\d/g, '?')).raw();
  return db.transaction((stage: string, account: string, number: string, keys: Record<string, unknown>) => {
    const now = Date.now();
    for (const [name, value] of Object.entries(keys)) upsert.run(stage, account, number, name, String(value), now);
    return list.all(stage, account, number) as [string, string][];
  });
}

const update = (await onPostgres()) ?? onSqlite();
const app = twinApp();
app.post('/centraloutboundwebhook-v1/:stage/', express.json(), (req, res, next) => {
  const b = req.body as { contactNumber: string; accountID: string; key: Record<string, unknown> };
  const number = b.contactNumber.startsWith('+') ? b.contactNumber : `+91${b.contactNumber}`;
  const send = (rows: [string, string][]) => {
    const key: Record<string, string> = Object.create(null);
    for (const [name, value] of rows) key[name] = value;
    res.json({ updated: true, contactNumber: number, accountID: b.accountID, key });
  };
  const out = update(req.params.stage, b.accountID, number, b.key);
  if (out instanceof Promise) out.then(send, next);
  else send(out);
});
listen(app);
