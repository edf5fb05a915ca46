import express from 'express';
import { listen, twinApp, twinDatabase } from './twin.js';

/**
 * Same-work twin of `userprefs`: `updateUserPreferences` with a `key` object. In one transaction
 * upsert each key, then read back every key of the caller for the reply (docs/http.md §2.5).
 * The number becomes E.164 by prefixing +91 when it has no +, the one normalisation the bench's
 * numbers need.
 */
const db = twinDatabase(`
  CREATE TABLE user_preferences (stage TEXT NOT NULL, account_id TEXT NOT NULL, contact_number TEXT NOT NULL,
    name TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (stage, account_id, contact_number, name)) WITHOUT ROWID;
`);
const upsert = db.prepare(
  `INSERT INTO user_preferences (stage, account_id, contact_number, name, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)
   ON CONFLICT (stage, account_id, contact_number, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
);
const list = db.prepare('SELECT name, value FROM user_preferences WHERE stage = ? AND account_id = ? AND contact_number = ? ORDER BY name').raw();

const update = db.transaction((stage: string, account: string, number: string, keys: Record<string, unknown>) => {
  const now = Date.now();
  for (const [name, value] of Object.entries(keys)) upsert.run(stage, account, number, name, String(value), now);
  return list.all(stage, account, number) as [string, string][];
});

const app = twinApp();
app.post('/centraloutboundwebhook-v1/:stage/', express.json(), (req, res) => {
  const b = req.body as { contactNumber: string; accountID: string; key: Record<string, unknown> };
  const number = b.contactNumber.startsWith('+') ? b.contactNumber : `+91${b.contactNumber}`;
  const rows = update(req.params.stage, b.accountID, number, b.key);
  const key: Record<string, string> = Object.create(null);
  for (const [name, value] of rows) key[name] = value;
  res.json({ updated: true, contactNumber: number, accountID: b.accountID, key });
});
listen(app);
