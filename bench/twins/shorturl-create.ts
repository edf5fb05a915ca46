import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { listen, twinApp, twinDatabase } from './twin.js';

/**
 * Same-work twin of `shorturl-create`: store a new link (8-character unbiased random code, the
 * token's SHA-256, the long URL) and answer {"shortUrl"}. A taken code draws another one.
 */
const BASE = process.env.TWIN_SHORTURL_BASE ?? 'http://localhost:3000';
const db = twinDatabase(`
  CREATE TABLE short_urls (stage TEXT NOT NULL, code TEXT NOT NULL, token_hash TEXT NOT NULL, long_url TEXT NOT NULL,
    custom INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, visits INTEGER NOT NULL DEFAULT 0,
    last_visit_at INTEGER, PRIMARY KEY (stage, code));
`);
const insert = db.prepare(
  `INSERT INTO short_urls (stage, code, token_hash, long_url, custom, created_at) VALUES ('prod', ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`,
);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function code(): string {
  let c = '';
  while (c.length < 8) for (const b of randomBytes(16)) if (b < 248 && c.length < 8) c += ALPHABET[b % 62];
  return c;
}

const app = twinApp();
app.post('/UrlShortner/phonon/shortUrl', express.json(), (req, res) => {
  const b = req.body as { custToken: string; longUrl: string };
  const hash = createHash('sha256').update(b.custToken).digest('hex');
  let c = code();
  while (insert.run(c, hash, b.longUrl, Date.now()).changes === 0) c = code();
  res.json({ shortUrl: `${BASE}/${c}` });
});
listen(app);
