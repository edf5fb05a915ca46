import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/pgTestDb.js';
import { CACHE_TTL_MS } from '../../src/shorturl/shorturl.service.js';
import { createCluster, call, sleep, type Instance } from './instances.js';
import { waitFor } from './stream.js';

/**
 * docs/http.md §11: short-link caches are bounded in staleness across instances, and visit counts
 * add up. Three real instances on one PostgreSQL database: a link made on A and cached on B and C
 * by a visit (i) stops redirecting everywhere exactly when it expires (its expiry is cached with
 * it), (ii) once deleted on A stops redirecting on A at once and on B and C within CACHE_TTL_MS
 * (plus slack for a loaded machine: the bound is the contract's, not a speed goal).
 * PostgreSQL only: skipped without TEST_DATABASE_URL (CI's PostgreSQL pass requires it to run).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const SLACK_MS = 3_000;

async function shorten(inst: Instance, longUrl: string, extra: Record<string, string> = {}): Promise<string> {
  const r = await call(inst, 'POST', '/UrlShortner/phonon/shortUrl', { custToken: 'abcd1234', longUrl, ...extra });
  expect(r.status).toBe(200);
  return (r.body.shortUrl as string).split('/').pop()!;
}

/** GET /{code} without following the redirect: the status and when it was sent and answered. */
async function visit(inst: Instance, code: string) {
  const sentAt = Date.now();
  const res = await fetch(`${inst.url}/${code}`, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location'), sentAt, answeredAt: Date.now() };
}

async function threeInstances() {
  const cluster = await createCluster({ SHORTURL_MISSES_PER_MINUTE: '0', SHORTURL_CREATES_PER_MINUTE: '0' });
  cleanups.push(cluster.close);
  return Promise.all(['a', 'b', 'c'].map((n) => cluster.start(n)));
}

describe.skipIf(!TEST_DATABASE_URL)('several instances: short links (PostgreSQL only)', () => {
  it('when a link made on A and cached on B and C expires, then it redirects everywhere until its expiry and is gone (410) everywhere from then on', async () => {
    const [a, b, c] = await threeInstances();
    const expiresAt = Date.now() + 4_000;
    const code = await shorten(a!, 'https://example.com/expiring', { expiresAt: new Date(expiresAt).toISOString() });
    for (const inst of [b!, c!]) expect((await visit(inst, code)).status).toBe(302);

    const seen: Awaited<ReturnType<typeof visit>>[] = [];
    while (Date.now() < expiresAt + 1_000) {
      seen.push(...(await Promise.all([a!, b!, c!].map((i) => visit(i, code)))));
      await sleep(50);
    }
    // A redirect was decided before the expiry, a 410 after it: exact, nothing stale.
    for (const r of seen) {
      if (r.status === 302) expect(r.sentAt).toBeLessThan(expiresAt);
      else {
        expect(r.status).toBe(410);
        expect(r.answeredAt).toBeGreaterThanOrEqual(expiresAt);
      }
    }
    for (const inst of [a!, b!, c!]) expect((await visit(inst, code)).status).toBe(410);
  }, 120_000);

  it('when a link cached on B and C is deleted on A, then A stops redirecting at once and B and C within the cache bound; visits counted before add up across instances', async () => {
    const [a, b, c] = await threeInstances();
    const code = await shorten(a!, 'https://example.com/to-delete');
    const kept = await shorten(a!, 'https://example.com/kept');
    // Visits through every instance add up exactly (each instance writes its counts as increments).
    for (let i = 0; i < 20; i++) {
      const replies = await Promise.all([a!, b!, c!].map((inst) => visit(inst, kept)));
      for (const r of replies) expect(r.status).toBe(302);
    }
    const counted = await waitFor(async () => {
      const s = await call(c!, 'GET', `/UrlShortner/phonon/stats/${kept}?custToken=abcd1234`);
      return s.body.visits === 60 ? s.body.visits : undefined;
    }, 15_000);
    expect(counted).toBe(60);

    for (const inst of [b!, c!]) expect((await visit(inst, code)).status).toBe(302);
    const del = await call(a!, 'DELETE', `/admin/prod/links/${code}`);
    expect(del.status).toBe(204);
    const deletedAt = Date.now();
    expect((await visit(a!, code)).status).toBe(404);

    for (const inst of [b!, c!]) {
      const stopped = await waitFor(async () => ((await visit(inst, code)).status === 404 ? Date.now() : undefined), CACHE_TTL_MS + SLACK_MS);
      expect(stopped, `${inst.name} still redirects a deleted link`).toBeDefined();
      expect(stopped! - deletedAt).toBeLessThanOrEqual(CACHE_TTL_MS + SLACK_MS);
      // And it stays gone.
      expect((await visit(inst, code)).status).toBe(404);
    }
    // The other link is untouched.
    for (const inst of [a!, b!, c!]) expect((await visit(inst, kept)).location).toBe('https://example.com/kept');
  }, 120_000);
});
