import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { randomCode } from '../../src/shorturl/code.js';
import { LruCache } from '../../src/lruCache.js';
import { parseIsoInstant } from '../../src/shorturl/shorturl.rules.js';
import { ShortUrlService } from '../../src/shorturl/shorturl.service.js';
import { VisitCounter } from '../../src/shorturl/visitCounter.js';
import { hashToken, TokenBook } from '../../src/shorturl/tokens.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('random codes (3)', () => {
  it('when 20,000 codes are drawn, then each is 8 of [A-Za-z0-9], all distinct, and every character is about equally likely', () => {
    const counts = new Map<string, number>();
    const codes = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const code = randomCode();
      expect(code).toMatch(/^[A-Za-z0-9]{8}$/);
      codes.add(code);
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(codes.size).toBe(20_000);
    expect(counts.size).toBe(62);
    // 160,000 characters: about 2,581 each (σ ≈ 50). A `byte % 62` bias would give 8 characters ~3,200.
    for (const [ch, n] of counts) expect(n, ch).toBeGreaterThan(2_300);
    for (const [ch, n] of counts) expect(n, ch).toBeLessThan(2_870);
  });
});

describe('generated-code collisions (3)', () => {
  it('when a generated code is already taken, then another is drawn and the link is stored under it', async () => {
    t = buildTestApp();
    const repo = t.stores.shortUrls;
    const queue = ['Taken123', 'Taken123', 'Fresh456'];
    const visits = new VisitCounter((b) => repo.addVisits(b), () => {});
    const service = new ShortUrlService(repo, visits, t.clock, createMetrics(), { newCode: () => queue.shift()! });
    const token = new TokenBook(new Map([['abcd1234', undefined]]), 'http://localhost:3000').find('abcd1234')!;
    expect(await service.create({ token, longUrl: 'https://example.com/1' })).toMatchObject({ code: 'Taken123', created: true });
    expect(await service.create({ token, longUrl: 'https://example.com/2' })).toMatchObject({ code: 'Fresh456', created: true });
    const rows = (await t.query<{ code: string; long_url: string }>('SELECT code, long_url FROM short_urls ORDER BY code')).map((r) => [r.code, r.long_url]);
    expect(rows).toEqual([
      ['Fresh456', 'https://example.com/2'],
      ['Taken123', 'https://example.com/1'],
    ]);
  });

  it('when every drawn code is taken, then creation fails instead of overwriting a link', async () => {
    t = buildTestApp();
    const repo = t.stores.shortUrls;
    const visits = new VisitCounter((b) => repo.addVisits(b), () => {});
    const service = new ShortUrlService(repo, visits, t.clock, createMetrics(), { newCode: () => 'Always11' });
    const token = new TokenBook(new Map([['abcd1234', undefined]]), 'http://x.example').find('abcd1234')!;
    await service.create({ token, longUrl: 'https://example.com/1' });
    await expect(service.create({ token, longUrl: 'https://example.com/2' })).rejects.toThrow('could not find a free short code');
    expect((await t.query<{ long_url: string }>('SELECT long_url FROM short_urls')).map((r) => r.long_url)).toEqual(['https://example.com/1']);
  });
});

describe('visit counter', () => {
  it('when a write fails, then the visits are kept and written once by the next flush', async () => {
    const written: Map<string, { count: number; lastAt: number }>[] = [];
    let fail = true;
    const errors: unknown[] = [];
    const counter = new VisitCounter(
      async (b) => {
        if (fail) throw new Error('SQLITE_BUSY');
        written.push(new Map([...b].map(([k, v]) => [k, { ...v }])));
      },
      (e) => errors.push(e),
    );
    counter.record('a', 1);
    counter.record('a', 5);
    expect(await counter.flush()).toBe(false);
    expect(errors).toHaveLength(1);
    counter.record('a', 3);
    counter.record('b', 2);
    fail = false;
    expect(await counter.flush()).toBe(true);
    expect(await counter.flush()).toBe(true);
    expect(written).toEqual([
      new Map([
        ['a', { count: 3, lastAt: 5 }],
        ['b', { count: 1, lastAt: 2 }],
      ]),
    ]);
    expect(counter.pendingFor('a')).toBeUndefined();
  });

  it('when too many links have unwritten visits, then they are flushed at once', () => {
    let batches = 0;
    const counter = new VisitCounter(async () => void batches++, () => {}, 3);
    counter.record('a', 1);
    counter.record('b', 1);
    expect(batches).toBe(0);
    counter.record('c', 1);
    expect(batches).toBe(1);
  });
});

describe('LRU cache', () => {
  it('when full, then the least recently used entry is evicted', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('when any sequence of gets, sets and deletes is applied, then it holds exactly what a plain least-recently-used list would', () => {
    type Op = { op: 'get' | 'set' | 'delete'; key: number; value: number };
    const op = fc.record({ op: fc.constantFrom<Op['op']>('get', 'set', 'delete'), key: fc.integer({ min: 0, max: 7 }), value: fc.integer() });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const c = new LruCache<number, number>(capacity);
        // The model: most recently used first.
        let model: [number, number][] = [];
        for (const { op, key, value } of ops) {
          const i = model.findIndex(([k]) => k === key);
          if (op === 'get') {
            expect(c.get(key)).toBe(i < 0 ? undefined : model[i]![1]);
            if (i >= 0) model = [model[i]!, ...model.filter((_, j) => j !== i)];
          } else if (op === 'set') {
            c.set(key, value);
            model = [[key, value] as [number, number], ...model.filter(([k]) => k !== key)].slice(0, capacity);
          } else {
            c.delete(key);
            model = model.filter(([k]) => k !== key);
          }
          expect(c.size).toBe(model.length);
        }
        for (const [k, v] of model) expect(c.get(k)).toBe(v);
      }),
      { seed: 15, numRuns: 300 },
    );
  });
});

describe('tokens', () => {
  it('when a token is looked up, then only an exact match finds it, with its base', () => {
    const book = new TokenBook(new Map<string, string | undefined>([['abcd1234', undefined], ['brand5678', 'https://s.example.in']]), 'http://localhost:3000');
    expect(book.find('brand5678')).toEqual({ hash: hashToken('brand5678'), base: 'https://s.example.in' });
    expect(book.find('abcd1234')?.base).toBe('http://localhost:3000');
    for (const bad of ['', 'abcd123', 'abcd12345', 'Abcd1234', 'brand5678 ']) expect(book.find(bad)).toBeUndefined();
  });
});

describe('ISO-8601 instants', () => {
  it('when given Z, offsets, fractions or a date alone, then the instant is exact', () => {
    expect(parseIsoInstant('f', '2030-01-31T18:30:00Z')).toBe(Date.parse('2030-01-31T18:30:00Z'));
    expect(parseIsoInstant('f', '2030-01-31T18:30:00.250Z')).toBe(Date.parse('2030-01-31T18:30:00.250Z'));
    expect(parseIsoInstant('f', '2030-02-01T00:00+05:30')).toBe(Date.parse('2030-01-31T18:30:00Z'));
    expect(parseIsoInstant('f', '2030-01-31T13:30:00-0500')).toBe(Date.parse('2030-01-31T18:30:00Z'));
    expect(parseIsoInstant('f', '2030-01-31')).toBe(Date.parse('2030-01-31T00:00:00Z'));
    expect(parseIsoInstant('f', '2028-02-29T00:00:00Z')).toBe(Date.parse('2028-02-29T00:00:00Z'));
  });

  it('when the text is not a valid instant, then INVALID_PARAMETER names the field', () => {
    for (const bad of ['2029-02-29T00:00:00Z', '2030-04-31', '2030-01-01T24:00:00Z', '2030-01-01T10:60Z', '2030-01-01T10:00:00+24:00', '2030-1-1', '']) {
      expect(() => parseIsoInstant('expiresAt', bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER', field: 'expiresAt' }));
    }
  });
});
