import supertest from 'supertest';
import type { Db } from '../../src/db/open.js';
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

/** Every row of every table (events, agents, clients, visits, preferences…), to assert "nothing changed". */
export function snapshot(db: Db): Record<string, unknown[]> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name")
    .pluck()
    .all() as string[];
  // Some tables are WITHOUT ROWID: rows are compared as sorted JSON text.
  return Object.fromEntries(tables.map((name) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort()]));
}

export const createOutbound = {
  method: 'createOutbound',
  apiVersion: '1.0',
  clientID: 'acme',
  securityID: SECURITY_ID,
  flowID: FLOW_ID,
  contactNumbers: ['9879964806'],
};
