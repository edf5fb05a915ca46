import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/db/open.js';
import { migratePg } from '../../src/db/pg.js';
import { createPgTestSchema, TEST_DATABASE_URL, type PgTestSchema } from '../helpers/pgTestDb.js';

/** docs/http.md §11: PostgreSQL migrations, applied once by whichever instance gets there first. */

/** Tables only PostgreSQL has: what SQLite's single process keeps in memory (shared limits). */
const PG_ONLY = new Set(['rate_limits']);
/** Columns only PostgreSQL has: which instance made a pause change (its bus catch-up, migrations-pg/086). */
const PG_ONLY_COLUMNS = new Set(['pause_events.origin']);

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL migrations (TEST_DATABASE_URL)', () => {
  const schemas: PgTestSchema[] = [];
  afterEach(async () => {
    await Promise.all(schemas.splice(0).map((s) => s.drop()));
  });

  it('when several instances migrate one empty database at once, then each migration is applied exactly once and all of them finish', async () => {
    const s = createPgTestSchema(undefined, { max: 6 });
    schemas.push(s);
    const runs = await Promise.all([migratePg(s.pool), migratePg(s.pool), migratePg(s.pool)]);
    const applied = runs.flat();
    const versions = (await s.pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
    expect(versions.length).toBeGreaterThan(0);
    // Every version applied by exactly one of the three, none twice.
    expect([...applied].sort()).toEqual(versions);
    expect(runs.filter((r) => r.length > 0)).toHaveLength(1);
    // A later start applies nothing.
    expect(await migratePg(s.pool)).toEqual([]);
  });

  it('when migrated, then PostgreSQL has the same tables and columns as SQLite', async () => {
    const s = createPgTestSchema();
    schemas.push(s);
    await migratePg(s.pool);
    const lite = openDatabase(':memory:');
    migrate(lite);
    const liteTables = (
      lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[]
    ).sort();
    const shape = (table: string) => (lite.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]).sort();
    const liteShape = Object.fromEntries(liteTables.map((t) => [t, shape(t)]));
    lite.close();

    const cols = await s.pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
    );
    const pgShape: Record<string, string[]> = {};
    for (const r of cols.rows) if (!PG_ONLY.has(r.table_name) && !PG_ONLY_COLUMNS.has(`${r.table_name}.${r.column_name}`)) (pgShape[r.table_name] ??= []).push(r.column_name);
    for (const t of Object.keys(pgShape)) pgShape[t]!.sort();
    // schema_migrations differs only in its timestamp's type, not its columns.
    expect(pgShape).toEqual(liteShape);
  });

  it('when a migration fails, then it is rolled back, named in the error, and nothing of it remains', async () => {
    const s = createPgTestSchema();
    schemas.push(s);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cw-mig-'));
    writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE b (y INTEGER); SELECT no_such_function();');
    await expect(migratePg(s.pool, dir)).rejects.toThrow(/migration 002_bad\.sql failed/);
    const tables = (await s.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)).rows.map(
      (r) => r.table_name,
    );
    expect(tables).toEqual(['a', 'schema_migrations']);
  });
});
