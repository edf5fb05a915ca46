import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { listen, twinApp, twinDatabase, twinPool } from './twin.js';

/**
 * Same-work twin of `shorturl-create`: store a new link (8-character unbiased random code, the
 * token's SHA-256, the long URL) and answer {"shortUrl"}. A taken code draws another one.
 */
const BASE = process.env.TWIN_SHORTURL_BASE ?? 'http://localhost:3000';
const TABLE = `CREATE TABLE short_urls (stage TEXT NOT NULL, code TEXT NOT NULL, token_hash TEXT NOT NULL, long_url TEXT NOT NULL,
    custom INTEGER NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, visits INTEGER NOT NULL DEFAULT 0,
    last_visit_at BIGINT, PRIMARY KEY (stage, code))`;
const INSERT = `INSERT INTO short_urls (stage, code, token_hash, long_url, custom, created_at) VALUES ('prod', $1, $2, $3, 0, $4) ON CONFLICT DO NOTHING`;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function code(): string {
  let c = '';
  while (c.length < 8) for (const b of randomBytes(16)) if (b < 248 && c.length < 8) c += ALPHABET[b % 62];
  return c;
}

/** Insert under a fresh code; true when inserted (false: the code was taken). */
type Insert = (code: string, hash: string, longUrl: string, now: number) => boolean | Promise<boolean>;

async function onPostgres(): Promise<Insert | undefined> {
  const pool = await twinPool(`DROP TABLE IF EXISTS short_urls; ${TABLE};`);
  if (!pool) return undefined;
  return async (c, hash, longUrl, now) => ((await pool.query(INSERT, [c, hash, longUrl, now])).rowCount ?? 0) === 1;
}

function onSqlite(): Insert {
  const db = twinDatabase(`${TABLE};`);
  const insert = db.prepare(INSERT.replace(/\$\d/g, '?'));
  return (c, hash, longUrl, now) => insert.run(c, hash, longUrl, now).changes === 1;
}

const insert = (await onPostgres()) ?? onSqlite();
const app = twinApp();
app.post('/UrlShortner/phonon/shortUrl', express.json(), (req, res, next) => {
  const b = req.body as { custToken: string; longUrl: string };
  const hash = createHash('sha256').update(b.custToken).digest('hex');
  const attempt = (): void => {
    const c = code();
    const send = (ok: boolean) => (ok ? res.json({ shortUrl: `${BASE}/${c}` }) : attempt());
    const ok = insert(c, hash, b.longUrl, Date.now());
    if (typeof ok === 'boolean') send(ok);
    else ok.then(send, next);
  };
  attempt();
});
listen(app);
