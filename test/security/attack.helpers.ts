import supertest from 'supertest';
import type { TestApp } from '../helpers/buildTestApp.js';

/** Shared set-up for the attack tests of issue 10 (docs/http.md §7). */

export const CLI = '+919879964805';
export const HOOK = '/centraloutboundwebhook-v1/prod/';
export const SECURITY_ID = 'S3cur1ty'.repeat(8);
export const FLOW_ID = 'FLOW0001';

/** Register an agent and an outbound client from loopback (the operator's own set-up). */
export async function seed(t: TestApp): Promise<void> {
  const agent = await supertest(t.http).put(`/admin/prod/agents/${CLI}`).send({ name: 'Asha' });
  if (agent.status !== 201) throw new Error(`agent set-up failed: ${agent.status} ${agent.text}`);
  const client = await supertest(t.http).put('/admin/prod/clients/acme').send({ securityID: SECURITY_ID, flows: [FLOW_ID] });
  if (client.status !== 201) throw new Error(`client set-up failed: ${client.status} ${client.text}`);
}

/** Tables whose rows change on every request by design: rate-limiter counters. */
const COUNTERS = new Set(['rate_limits']);

/**
 * Every row of every table (events, agents, clients, visits, preferences…) on the SQLite file and,
 * when the suite runs on PostgreSQL (TEST_DATABASE_URL), on the stores' database too, to assert
 * "nothing changed". Rows are compared as sorted JSON text (some tables are WITHOUT ROWID).
 */
export async function snapshot(t: TestApp): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const tables = t.db
    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name")
    .pluck()
    .all() as string[];
  for (const name of tables) out[name] = t.db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort();
  if (process.env.TEST_DATABASE_URL) {
    const pgTables = await t.query<{ t: string }>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY 1",
    );
    for (const { t: name } of pgTables) {
      if (COUNTERS.has(name)) continue;
      out[`pg.${name}`] = (await t.query(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
    }
  }
  return out;
}

export const createOutbound = {
  method: 'createOutbound',
  apiVersion: '1.0',
  clientID: 'acme',
  securityID: SECURITY_ID,
  flowID: FLOW_ID,
  contactNumbers: ['9879964806'],
};
