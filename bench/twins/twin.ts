import express from 'express';
import { listenComparator } from '../comparatorServer.js';
import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * What every same-work twin shares: a better-sqlite3 database with the service's own pragmas
 * (WAL, synchronous=NORMAL; src/db/open.ts) at `TWIN_DATABASE_PATH`, an Express 5 app without
 * ETag or X-Powered-By, and a listener on 127.0.0.1:$PORT. A twin does the same state change as
 * the service and answers the same bytes, with no validation, logging, metrics or secondary
 * indexes: the cost of the work itself, as a yardstick for the service's CPU per request.
 * With `TWIN_DATABASE_URL` set the twin uses PostgreSQL through `pg` instead (`npm run bench --
 * --engine pg`), its tables made afresh at start.
 */

export function twinDatabase(schema: string): Database.Database {
  const path = process.env.TWIN_DATABASE_PATH;
  if (!path) throw new Error('TWIN_DATABASE_PATH is required');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(schema);
  return db;
}

/** The PostgreSQL pool when `TWIN_DATABASE_URL` is set (BIGINT read as a number, like the service). */
export async function twinPool(schema: string): Promise<pg.Pool | undefined> {
  const url = process.env.TWIN_DATABASE_URL;
  if (!url) return undefined;
  pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  await pool.query(schema);
  return pool;
}

/** One transaction on one connection of the pool. */
export async function inTransaction<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await work(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

export function twinApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

export function listen(app: express.Express): void {
  listenComparator(app);
}

/** The agents a pause twin starts with: `TWIN_AGENTS`, a JSON array of {stage, cli, name}. */
export function seedAgents(): { stage: string; cli: string; name: string | null }[] {
  return JSON.parse(process.env.TWIN_AGENTS ?? '[]') as { stage: string; cli: string; name: string | null }[];
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
