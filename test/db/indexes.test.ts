import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

/**
 * Only the indexes a query needs (issue 15, migration 075): every statement the app prepares is
 * planned with EXPLAIN QUERY PLAN; every secondary index must serve at least one of them, and no
 * statement may scan a table that grows with traffic. Each exception is listed with its reason.
 */

/** Indexes no SQLite query uses yet, kept on purpose. */
const UNUSED_ON_PURPOSE: Record<string, string> = {
  outbound_requests_client: 'outbound tables are being reworked for docs/http.md §9; their owner decides',
};

/** Full scans that are fine: the table is bounded by something other than traffic. */
const SCANS_ALLOWED: { table: string; sql: RegExp; why: string }[] = [
  { table: 'agents', sql: /FROM agents WHERE pause = 1/, why: 'the break timer sweep: one row per agent' },
  { table: 'ivr_steps', sql: /DELETE FROM ivr_steps WHERE created_at/, why: 'hourly prune: only registered agents’ own IVR calls' },
  { table: 'ivr_calls', sql: /DELETE FROM ivr_calls WHERE first_seen/, why: 'hourly prune: only registered agents’ own IVR calls' },
  { table: 'schema_migrations', sql: /FROM schema_migrations/, why: 'start-up, one row per migration' },
  { table: 'outbox', sql: /SELECT count\(\*\) FROM outbox/, why: 'at shutdown, to log what is left: only deliveries not yet made' },
  { table: 'r', sql: /SET completed_at = @now/, why: 'its partial index holds only unfinished requests with a statusCallbackUrl (docs/http.md §9)' },
  { table: 'json_each', sql: /FROM json_each\(/, why: "the request's own numbers (at most 1,000), not a table" },
  { table: 'k', sql: /WITH RECURSIVE k\(client_id\)/, why: 'the clients with contacts waiting, one row each, each found by one index seek' },
];

interface Planned {
  sql: string;
  plan: string[];
}

function planOf(db: Database.Database, sql: string): string[] {
  // Placeholders are bound to NULL: the plan is chosen when the statement is prepared, not per value.
  const noStrings = sql.replace(/'[^']*'/g, "''");
  const names = [...new Set([...noStrings.matchAll(/[@:$]([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];
  const args: unknown[] = names.length ? [Object.fromEntries(names.map((n) => [n, null]))] : Array((noStrings.match(/\?/g) ?? []).length).fill(null);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
}

describe('SQLite indexes and query plans', () => {
  let t: TestApp;
  const planned: Planned[] = [];
  let indexes: { name: string; tbl_name: string }[] = [];

  beforeAll(() => {
    const seen = new Set<string>();
    const prepare = Database.prototype.prepare;
    Database.prototype.prepare = function (this: Database.Database, sql: string) {
      seen.add(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    try {
      // SQLite's plans, on both passes of CI (the PostgreSQL stores have their own SQL).
      t = buildTestApp({}, { start: true, engine: 'sqlite' });
    } finally {
      Database.prototype.prepare = prepare;
    }
    for (const sql of seen) if (/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(sql)) planned.push({ sql, plan: planOf(t.db, sql) });
    indexes = t.db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as typeof indexes;
  });
  afterAll(async () => {
    await t.close();
  });

  it('when every prepared statement is planned, then each secondary index serves at least one of them', () => {
    expect(planned.length).toBeGreaterThan(20);
    const used = (name: string) => planned.some((p) => p.plan.some((d) => new RegExp(`USING (COVERING )?INDEX ${name}\\b`).test(d)));
    const unused = indexes.map((i) => i.name).filter((n) => !used(n) && !(n in UNUSED_ON_PURPOSE));
    expect(unused).toEqual([]);
  });

  it('when every prepared statement is planned, then none scans a table that grows with traffic', () => {
    const scans = planned.flatMap((p) =>
      p.plan
        // A full scan, of the table or of a whole index; "SCAN CONSTANT ROW" reads no table.
        .map((d) => /^SCAN (\w+)\b/.exec(d)?.[1])
        .filter((table) => table !== 'CONSTANT')
        .filter((table): table is string => table !== undefined)
        .filter((table) => !SCANS_ALLOWED.some((a) => a.table === table && a.sql.test(p.sql)))
        .map((table) => `${table}: ${p.sql.replace(/\s+/g, ' ').slice(0, 120)}`),
    );
    expect(scans).toEqual([]);
  });

  it('when one agent’s events or a report window are read, then the index made for that query is used', () => {
    const planFor = (fragment: RegExp) => planned.filter((p) => fragment.test(p.sql.replace(/\s+/g, ' '))).map((p) => p.plan.join(' | '));
    const byAgent = planFor(/FROM pause_events .*WHERE stage = @stage AND cli = @cli AND at >= @from/);
    expect(byAgent.length).toBeGreaterThan(0);
    for (const p of byAgent) expect(p).toMatch(/USING INDEX pause_events_stage_cli_at \(stage=\? AND cli=\? AND at>\? AND at<\?\)/);
    const window = planFor(/FROM pause_events .*WHERE stage = @stage AND at >= @from/);
    expect(window.length).toBeGreaterThan(0);
    // In (at, id) order from the index itself: no sort before the LIMIT.
    for (const p of window) {
      expect(p).toMatch(/USING INDEX pause_events_by_time \(stage=\? AND at>\? AND at<\?\)/);
      expect(p).not.toMatch(/TEMP B-TREE/);
    }
    const breaksEnded = planFor(/FROM pause_events .*WHERE stage = @stage AND prev_pause = 1/);
    expect(breaksEnded.length).toBeGreaterThan(0);
    for (const p of breaksEnded) expect(p).toMatch(/USING COVERING INDEX pause_events_by_time \(stage=\? AND at>\? AND at<\?\)/);
  });

  it('when the scheduler claims for one client or lists the clients due, then it reads that client’s rows through its index, not every contact waiting', () => {
    // Issue 13: with 100,000 contacts waiting, claims through outbound_contacts_due (every
    // contact in due order) made one drain tick take seconds and starved the event loop.
    const planFor = (fragment: RegExp) => planned.filter((p) => fragment.test(p.sql.replace(/\s+/g, ' '))).map((p) => p.plan.join(' | '));
    const clientClaims = planFor(/c\.stage = @stage AND c\.client_id = @clientID/);
    expect(clientClaims.length).toBe(2);
    for (const p of clientClaims) {
      expect(p).toMatch(/SEARCH c USING INDEX outbound_contacts_client_due \(stage=\? AND client_id=\? AND due_at<\?\)/);
      expect(p).not.toMatch(/outbound_contacts_due\b/);
    }
    const stageClaims = planFor(/AND c\.stage = @stage (AND NOT EXISTS .*)?ORDER BY c\.due_at/);
    expect(stageClaims.length).toBe(2);
    for (const p of stageClaims) expect(p).toMatch(/SEARCH c USING INDEX outbound_contacts_stage_due \(stage=\? AND due_at<\?\)/);
    const dueClients = planFor(/WITH RECURSIVE k\(client_id\)/);
    expect(dueClients.length).toBe(1);
    expect(dueClients[0]).toMatch(/SEARCH x USING COVERING INDEX outbound_contacts_client_due \(stage=\? AND client_id>\?\)/);
    expect(dueClients[0]).toMatch(/outbound_contacts_leased \(stage=\? AND client_id=\? AND lease_until>\?\)/);
    expect(dueClients[0]).not.toMatch(/TEMP B-TREE|outbound_contacts_due\b/);
  });

  it('when the schema is read, then the write-path tables carry only the indexes migrations 075 and 091 keep', () => {
    const on = (table: string) => indexes.filter((i) => i.tbl_name === table).map((i) => i.name);
    expect(on('pause_events')).toEqual(['pause_events_by_time', 'pause_events_stage_cli_at']);
    expect(on('ivr_steps')).toEqual([]);
    expect(on('ivr_calls')).toEqual([]);
    expect(on('agents')).toEqual([]);
    expect(on('user_preferences')).toEqual([]);
  });
});
