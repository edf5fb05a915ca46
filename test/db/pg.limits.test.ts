import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { openPgPool, type PgPool } from '../../src/db/pg.js';
import { pgLimiters } from '../../src/http/limits.js';
import { createPgTestSchema, TEST_DATABASE_URL } from '../helpers/pgTestDb.js';

/**
 * docs/http.md §11: on PostgreSQL every limiter the factory makes counts in the shared
 * `rate_limits` table, so two instances (two pools on one database) share one count; a database
 * failure falls back to counting in memory instead of failing the request.
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A migrated schema and two separate pools on it: two instances of the service. */
async function twoInstances(): Promise<{ a: PgPool; b: PgPool; schema: string }> {
  const s = createPgTestSchema(TEST_DATABASE_URL, { migrate: true, max: 2 });
  cleanups.push(() => s.drop());
  await s.pool.query('SELECT 1'); // the schema exists and is migrated before the second pool uses it
  const b = openPgPool(TEST_DATABASE_URL!, { schema: s.schema, max: 2 });
  cleanups.push(() => b.end());
  return { a: s.pool, b, schema: s.schema };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'allowed', (r: unknown) => (r instanceof RateLimiterRes ? 'limited' : r));

describe.skipIf(!TEST_DATABASE_URL)('shared rate limits (PostgreSQL only)', () => {
  it('when N consumes are split across two instances, then the N+1th is refused on either, and another key or another limit is not', async () => {
    const { a, b } = await twoInstances();
    const spec = { name: 'pauseChanges', points: 5, durationSeconds: 60 };
    const onA = pgLimiters(a)(spec);
    const onB = pgLimiters(b)(spec);
    const key = 'test:+919879964805';
    for (let i = 0; i < 5; i++) expect(await refusal((i % 2 ? onB : onA).consume(key))).toBe('allowed');
    expect(await refusal(onA.consume(key))).toBe('limited');
    expect(await refusal(onB.consume(key))).toBe('limited');
    const limited = await onB.consume(key).catch((r: RateLimiterRes) => r);
    expect(limited.msBeforeNext).toBeGreaterThan(0);
    expect(limited.msBeforeNext).toBeLessThanOrEqual(60_000);
    // The same key of another limit, and another key of this one, have counts of their own.
    expect(await refusal(pgLimiters(b)({ ...spec, name: 'perIp' }).consume(key))).toBe('allowed');
    expect(await refusal(onA.consume('test:+919879964806'))).toBe('allowed');
    expect((await onB.get(key))?.consumedPoints).toBe(8);
  });

  it('when many consumes race on two instances at once, then exactly `points` of them are allowed', async () => {
    const { a, b } = await twoInstances();
    const spec = { name: 'shortUrlCreates', points: 7, durationSeconds: 60 };
    const onA = pgLimiters(a)(spec);
    const onB = pgLimiters(b)(spec);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => refusal((i % 2 ? onB : onA).consume('tokenhash'))));
    expect(results.filter((r) => r === 'allowed')).toHaveLength(7);
    expect(results.filter((r) => r === 'limited')).toHaveLength(13);
  });

  it('when the pacer asks for a fractional window (1/3 s), then the shared limiter accepts it and spaces the starts', async () => {
    const { a, b } = await twoInstances();
    const spec = { name: 'outboundCalls:3', points: 1, durationSeconds: 1 / 3 };
    expect(await refusal(pgLimiters(a)(spec).consume('prod:client'))).toBe('allowed');
    const second = await pgLimiters(b)(spec).consume('prod:client').catch((r: unknown) => r);
    expect(second).toBeInstanceOf(RateLimiterRes);
    expect((second as RateLimiterRes).msBeforeNext).toBeLessThanOrEqual(334);
  });

  it('when the database fails, then consume still answers (counting in memory) and never rejects with an Error', async () => {
    const pool = openPgPool(TEST_DATABASE_URL!, { schema: 'pglimits_no_such_schema', max: 1 });
    cleanups.push(() => pool.end());
    // No rate_limits table on this search_path: every query of the store fails.
    const limiter = pgLimiters(pool)({ name: 'perIp', points: 2, durationSeconds: 60 });
    expect(await refusal(limiter.consume('192.0.2.1'))).toBe('allowed');
    expect(await refusal(limiter.consume('192.0.2.1'))).toBe('allowed');
    expect(await refusal(limiter.consume('192.0.2.1'))).toBe('limited');
  });
});
