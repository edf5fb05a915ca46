import pg from 'pg';

/** The bench's own PostgreSQL databases (npm run bench --engine pg, npm run bench:roundtrips). */

/**
 * `name` (bench_x) for the service and `name`_twin for the twins, dropped and made afresh: the
 * bench's own databases on the server (nobody else's is touched).
 */
export async function freshPgDatabases(server: string, name: string): Promise<{ service: string; twin: string }> {
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  try {
    for (const db of [name, `${name}_twin`]) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${db}`);
    }
  } finally {
    await admin.end();
  }
  return { service: `${server}/${name}`, twin: `${server}/${name}_twin` };
}

/** Rows in each of `tables` ("no table" where it does not exist). */
export async function pgRowCounts(url: string, tables: string[]): Promise<Record<string, number | string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const out: Record<string, number | string> = {};
  try {
    for (const t of tables) {
      try {
        out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
      } catch {
        out[t] = 'no table';
      }
    }
  } finally {
    await c.end();
  }
  return out;
}

/**
 * `VACUUM (ANALYZE)` of the whole database, as pgbench vacuums its tables before each run: the
 * rows the scenarios before wrote are then not vacuumed by autovacuum inside a measured window
 * (it visits each database once a minute, and its workers share this machine's two cores).
 */
export async function vacuumPg(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('VACUUM (ANALYZE)');
  } finally {
    await c.end();
  }
}
