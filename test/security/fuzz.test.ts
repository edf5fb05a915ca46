import http from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';
import { CLI, FLOW_ID, SECURITY_ID, seed } from './attack.helpers.js';

/**
 * Issue 10: a bounded, seeded fuzz test (docs/http.md §7.4 "no input of any route yields 500").
 * Mutated requests go to every route family of one in-process app over a real socket, so paths
 * and headers reach Express exactly as sent. Each reply must be below 500 and carry no stack
 * trace, SQL text or file path; afterwards the service must still be healthy and working.
 * Bounded by count (NUM_RUNS) and by time (about 20 s); the seed makes a failure replayable
 * (`FUZZ_SEED=n npx vitest run test/security/fuzz.test.ts` tries another one).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const NUM_RUNS = 6_000;
const TIME_LIMIT_MS = 20_000;

let t: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  await seed(t);
  server = await listen(t.http);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await t.close();
});

// ---- generators -------------------------------------------------------------------------------

const badPercent = fc.constantFrom('%', '%f', '%ff', '%E0%A4%A', '%c0%af', '%00', '%zz', '%%', '%2e%2e', '%ED%A0%80', '%F4%90%80%80');
const huge = fc.constantFrom('a'.repeat(70_000), '9'.repeat(5_000), 'é'.repeat(3_000), `${'x'.repeat(2_100)}.example.com`);
/** Control characters, NUL (which PostgreSQL text cannot hold), lone surrogates, bidi marks. */
const oddChars = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('a\u0000b', '\u0000', '\ud800x', '\u202e9879964805', '\ufeff9879964805', '\r\n\t'));
const jsNames = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf');
const validish = fc.constantFrom(
  CLI,
  '9879964805',
  '+91 98799-64805',
  'true',
  'false',
  '0',
  '1.0',
  'prod',
  'test',
  'lunch',
  SECURITY_ID,
  FLOW_ID,
  'acme',
  'abcd1234',
  'https://example.com/x?y=1',
  'http://127.1/',
  '2026-01-15T10:00:00Z',
  '$flow.key.cli',
  'response.obdReqID',
  'Envelope.Body.Code[3].@id',
  '<a><b>1</b></a>',
  '{"a":{"b":[1,2]}}',
);
const text = fc.oneof(
  { weight: 4, arbitrary: validish },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: badPercent },
  { weight: 1, arbitrary: jsNames },
  { weight: 1, arbitrary: oddChars },
  { weight: 1, arbitrary: huge },
);
/** Text for URLs: a head far over Node's 16 KB limit is refused before the app sees it (431). */
const shortText = fc.oneof(
  { weight: 4, arbitrary: validish },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: badPercent },
  { weight: 1, arbitrary: jsNames },
  { weight: 1, arbitrary: fc.constant('q'.repeat(3_000)) },
);
const segment = fc.oneof(
  { weight: 3, arbitrary: validish.map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: badPercent.map((p) => `a${p}b`) },
  { weight: 1, arbitrary: jsNames },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(4_000)) },
);

/** JSON values: scalars, odd shapes, and nesting far past the 100-level bound. */
const deep = fc.integer({ min: 90, max: 3_000 }).map((n) => JSON.parse('['.repeat(Math.min(n, 100)) + ']'.repeat(Math.min(n, 100))) as unknown);
const deepText = fc.integer({ min: 90, max: 20_000 }).map((n) => '['.repeat(n) + '1' + ']'.repeat(n));
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.oneof(text, jsNames), text, { maxKeys: 4 }) },
  { weight: 1, arbitrary: deep },
);

interface Family {
  methods: string[];
  paths: string[];
  fields: string[];
}

/** Every route family; `{s}` is a path segment to mutate. */
const FAMILIES: Family[] = [
  {
    methods: ['POST'],
    paths: ['/centraloutboundwebhook-v1/prod/', '/centraloutboundwebhook-v1/test', '/centraloutboundwebhook-v1/{s}/'],
    fields: ['method', 'cli', 'pause', 'reason', 'apiVersion', 'securityID', 'flowID', 'clientID', 'delayMinutes', 'contactNumbers', 'contacts', 'obdReqID', 'contactNumber', 'accountID', 'key', 'key.city', '$user.key.x', 'requestRef', 'category', 'statusCallbackUrl', 'expiresAt'],
  },
  { methods: ['GET', 'POST'], paths: ['/ivr/inbound', '/ivr/{s}/inbound', '/ivr/prod/exotel/say', '/ivr/{s}'], fields: ['From', 'To', 'CallSid', 'CallUUID', 'Digits', 'dialect', 'mode', 'lang', 'cli'] },
  { methods: ['POST', 'GET'], paths: ['/mapping/preview', '/mapping/{s}'], fields: ['document', 'mapping'] },
  {
    methods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'],
    paths: [
      '/admin/prod/agents',
      '/admin/{s}/agents',
      '/admin/prod/agents/{s}',
      `/admin/prod/agents/${encodeURIComponent(CLI)}`,
      `/admin/prod/agents/${encodeURIComponent(CLI)}/pause`,
      '/admin/prod/agents/{s}/pause',
      '/admin/prod/agents/import',
      '/admin/prod/clients',
      '/admin/prod/clients/{s}',
      '/admin/prod/events',
      '/admin/prod/reports/breaks',
      '/admin/{s}/reports/breaks',
      '/admin/prod/board',
      '/admin/prod/board/data',
      '/admin/login',
      '/admin/logout',
    ],
    fields: ['name', 'accountID', 'language', 'pause', 'reason', 'securityID', 'flows', 'callerId', 'maxConcurrent', 'cli', 'from', 'to', 'format', 'token'],
  },
  { methods: ['HEAD'], paths: ['/admin/prod/events/stream', '/admin/{s}/events/stream'], fields: [] },
  {
    methods: ['POST', 'GET'],
    paths: ['/UrlShortner/phonon/shortUrl', '/UrlShortner/phonon/stats/{s}', '/UrlShortner/phonon/stats/fuzzlink1'],
    fields: ['custToken', 'longUrl', 'customSlug', 'expiresAt'],
  },
  { methods: ['GET', 'HEAD', 'POST', 'OPTIONS'], paths: ['/{s}', '/fuzzlink1', '/{s}/{s}', '/healthz', '/metrics', '/openapi.json', '/outbound/prod/status/{s}'], fields: [] },
];

const CONTENT_TYPES = [
  'application/json',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'text/xml; charset=utf-8',
  'text/csv',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/json; charset="utf-8"',
  'garbage',
  ';;;',
  '',
];

/** `arb` one time in `1/p`, else undefined: rare headers keep most requests past the guards. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight = 1, of = 10): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: of - weight, arbitrary: fc.constant(undefined) }, { weight, arbitrary: arb });

type Body = { kind: 'json' | 'form' | 'xml' | 'csv' | 'raw' | 'none'; text?: string };

const asText = (v: unknown): string => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));

function xmlOf(fields: [string, unknown][]): string {
  const el = (name: string, v: unknown): string => {
    const tag = /^[A-Za-z_][\w.-]*$/.test(name) ? name : 'x';
    if (Array.isArray(v)) return v.map((i) => el(tag, i)).join('');
    if (v && typeof v === 'object') return `<${tag}>${Object.entries(v).map(([k, i]) => el(k, i)).join('')}</${tag}>`;
    return `<${tag}>${asText(v).replace(/[<&]/g, '')}</${tag}>`;
  };
  return `<request>${fields.map(([k, v]) => el(k, v)).join('')}</request>`;
}

const request = fc
  .record({
    family: fc.constantFrom(...FAMILIES),
    pick: fc.nat(),
    segments: fc.array(segment, { minLength: 3, maxLength: 3 }),
    query: fc.array(fc.tuple(fc.oneof(fc.constantFrom('format', 'custToken', 'cli', 'dialect', 'from', 'to', 'method', 'Digits', 'From'), jsNames, shortText), shortText), { maxLength: 3 }),
    rawQuery: sometimes(badPercent.map((p) => `a=${p}&${p}=b&format=xml`), 2),
    fields: fc.array(fc.tuple(fc.nat(), value), { maxLength: 6 }),
    extraFields: fc.array(fc.tuple(fc.oneof(jsNames, text), value), { maxLength: 2 }),
    bodyKind: fc.constantFrom<Body['kind']>('json', 'json', 'form', 'xml', 'csv', 'raw', 'none'),
    rawBody: fc.oneof(deepText, fc.string({ maxLength: 200 }), huge, fc.constantFrom('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', '<a><b></a>', '{"a":', '\u0000\u0001', 'cli,name\n=1+1,"x')),
    contentType: sometimes(fc.constantFrom(...CONTENT_TYPES), 8),
    matchType: fc.boolean(),
    accept: sometimes(fc.constantFrom('application/xml', 'text/html', 'text/csv', '*/*', 'application/json;q=0.1, text/xml', 'garbage/;;'), 4),
    gzip: fc.constantFrom(false, false, false, true, 'fake' as const),
    forwardedFor: sometimes(fc.constantFrom('203.0.113.5', '127.0.0.1', 'not-an-ip', '::1, 10.0.0.1')),
    origin: sometimes(fc.constantFrom('https://attacker.example', 'null', 'http://127.0.0.1')),
  })
  .map((r) => {
    const method = r.family.methods[r.pick % r.family.methods.length]!;
    let si = 0;
    const path = r.family.paths[r.pick % r.family.paths.length]!.replace(/\{s\}/g, () => r.segments[si++ % 3]!);
    const fields: [string, unknown][] = [
      ...r.fields.map(([i, v]): [string, unknown] => [r.family.fields[i % Math.max(1, r.family.fields.length)] ?? 'x', v]),
      ...r.extraFields.map(([k, v]): [string, unknown] => [asText(k), v]),
    ];
    const qs = [new URLSearchParams(r.query.map(([k, v]) => [asText(k), asText(v)])).toString(), r.rawQuery].filter(Boolean).join('&');
    let body: Body = { kind: 'none' };
    if (method !== 'GET' && method !== 'HEAD') {
      if (r.bodyKind === 'json') body = { kind: 'json', text: JSON.stringify(Object.fromEntries(fields)) };
      else if (r.bodyKind === 'form') body = { kind: 'form', text: new URLSearchParams(fields.map(([k, v]) => [k, asText(v)])).toString() };
      else if (r.bodyKind === 'xml') body = { kind: 'xml', text: xmlOf(fields) };
      else if (r.bodyKind === 'csv') body = { kind: 'csv', text: `cli,name,accountID,language\n${fields.map(([, v]) => asText(v)).join(',')}\n` };
      else if (r.bodyKind === 'raw') body = { kind: 'raw', text: r.rawBody };
    }
    const natural = { json: 'application/json', form: 'application/x-www-form-urlencoded', xml: 'application/xml', csv: 'text/csv', raw: undefined, none: undefined }[body.kind];
    const contentType = r.matchType && natural ? natural : r.contentType;
    return { method, path: qs ? `${path}?${qs}` : path, body, contentType, accept: r.accept, gzip: r.gzip, forwardedFor: r.forwardedFor, origin: r.origin };
  });

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

function send(r: Req): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let payload: Buffer | undefined = r.body.text === undefined ? undefined : Buffer.from(r.body.text);
    const headers: Record<string, string> = {};
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (r.accept) headers.accept = r.accept;
    if (r.forwardedFor) headers['x-forwarded-for'] = r.forwardedFor;
    if (r.origin) headers.origin = r.origin;
    if (payload && r.gzip === true) {
      payload = gzipSync(payload);
      headers['content-encoding'] = 'gzip';
    } else if (payload && r.gzip === 'fake') headers['content-encoding'] = 'gzip';
    if (payload) headers['content-length'] = String(payload.length);
    const req = http.request(`${server.url}${r.path}`, { method: r.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The error message of a JSON error reply, if it is one. */
function errorMessage(text: string): string | undefined {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Stack frames, SQL, database and file-system details must never reach a reply. */
const LEAKS = /\n\s+at \S+ \(|\bat (async )?[\w.<>]+ \(\/|node_modules|\/work\/|\.ts:\d+|SQLITE_|SqliteError|syntax error|\bSELECT\s+[\w*]+\s+FROM\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|no such (table|column)/i;

describe('fuzz: every route family (7.4)', () => {
  it('when thousands of mutated requests arrive, then none gets a 5xx or leaks a stack or SQL, and the service still works after', async () => {
    const link = await send({ method: 'POST', path: '/UrlShortner/phonon/shortUrl', body: { kind: 'json', text: JSON.stringify({ custToken: 'abcd1234', longUrl: 'https://example.com/fuzz', customSlug: 'fuzzlink1' }) }, contentType: 'application/json', accept: undefined, gzip: false, forwardedFor: undefined, origin: undefined });
    expect(link.status).toBe(200);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const reply = await send(r);
        sent++;
        expect(reply.status, `${r.method} ${r.path.slice(0, 200)}`).toBeLessThan(500);
        expect(reply.text, `${r.method} ${r.path.slice(0, 200)}`).not.toMatch(LEAKS);
        const message = errorMessage(reply.text);
        if (message !== undefined) expect([...message].length, message.slice(0, 100)).toBeLessThanOrEqual(300);
      }),
      { seed: SEED, numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
    );
    expect(sent).toBeGreaterThan(200);
    expect(t.logs.filter((l) => l.includes('unhandled error'))).toEqual([]);

    const health = await send({ method: 'GET', path: '/healthz', body: { kind: 'none' }, contentType: undefined, accept: undefined, gzip: false, forwardedFor: undefined, origin: undefined });
    expect(health).toEqual({ status: 200, text: '{"status":"ok"}' });
    const works = await send({ method: 'POST', path: '/centraloutboundwebhook-v1/test/', body: { kind: 'json', text: JSON.stringify({ method: 'getPauseStatusForCLI', cli: '9000000000' }) }, contentType: 'application/json', accept: undefined, gzip: false, forwardedFor: undefined, origin: undefined });
    expect([200, 404]).toContain(works.status);
    expect((await send({ method: 'GET', path: '/fuzzlink1', body: { kind: 'none' }, contentType: undefined, accept: undefined, gzip: false, forwardedFor: undefined, origin: undefined })).status).toBe(302);
  }, 90_000);
});
