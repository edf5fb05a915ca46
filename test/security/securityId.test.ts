import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/db/open.js';
import { SqliteOutboundStore } from '../../src/outbound/outbound.store.sqlite.js';
import { hashSecurityId, securityIdMatches } from '../../src/outbound/securityId.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { SECURITY_ID, createBody, registerClient, webhook } from '../outbound/outboundHelpers.js';

/** docs/http.md §7.4: a client's securityID is stored only as a hash and never returned. */

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations');

let t: TestApp | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('securityID at rest (7.4)', () => {
  it('when a client is registered, then the database holds only the SHA-256 of its securityID and createOutbound still authenticates', async () => {
    t = buildTestApp();
    await registerClient(t);
    const rows = await t.query('SELECT * FROM outbound_clients');
    expect(rows).toHaveLength(1);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(SECURITY_ID);
    expect(rows[0]!.security_id_sha256).toBe(hashSecurityId(SECURITY_ID));
    const ok = await webhook(t, createBody());
    expect(ok.status).toBe(200);
    expect(ok.text).not.toContain(SECURITY_ID);
    // The stored hash is not a credential: sending it as the securityID is refused.
    const withHash = await webhook(t, createBody({ securityID: hashSecurityId(SECURITY_ID) }));
    expect(withHash.status).toBe(401);
  });

  it('when a database from before the change is migrated, then existing clients are converted and keep working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-secid-'));
    dirs.push(dir);
    const before = join(dir, 'migrations');
    mkdirSync(before);
    for (const f of readdirSync(MIGRATIONS).filter((f) => f < '055')) copyFileSync(join(MIGRATIONS, f), join(before, f));
    const dbPath = join(dir, 'old.db');
    const old = openDatabase(dbPath);
    migrate(old, before);
    old
      .prepare("INSERT INTO outbound_clients (stage, client_id, security_id, flows, created_at, updated_at) VALUES ('prod', 'acme', ?, '[\"FLOW0001\"]', 1, 1)")
      .run(SECURITY_ID);
    old.close();

    const db = openDatabase(dbPath);
    expect(migrate(db)).toEqual(readdirSync(MIGRATIONS).filter((f) => f >= '055' && f.endsWith('.sql')).sort());
    const dump = JSON.stringify(db.prepare('SELECT * FROM outbound_clients').all());
    const client = await new SqliteOutboundStore(db).getClient('prod', 'acme');
    db.close();
    expect(dump).not.toContain(SECURITY_ID);
    expect(client?.securityIdHash).toBe(hashSecurityId(SECURITY_ID));
    expect(securityIdMatches(SECURITY_ID, client!.securityIdHash)).toBe(true);
  });

  it('when a securityID is compared, then only the exact one matches', () => {
    const h = hashSecurityId(SECURITY_ID);
    expect(securityIdMatches(SECURITY_ID, h)).toBe(true);
    expect(securityIdMatches(`${SECURITY_ID.slice(0, 63)}X`, h)).toBe(false);
    expect(securityIdMatches('', h)).toBe(false);
    expect(securityIdMatches(SECURITY_ID, 'not-hex')).toBe(false);
  });
});
