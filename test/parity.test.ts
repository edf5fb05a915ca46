import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/buildTestApp.js';
import { comparable, parseXmlReply, type Json } from './helpers/xmlReply.js';

/**
 * JSON/XML parity (docs/http.md §1.1, 1.3): every webhook method — and /mapping/preview — gets the
 * same request as a JSON, a form and an XML body, asks for a JSON and an XML reply, and must
 * answer the same status and the same data in all six combinations. Each combination runs on a
 * fresh app (same fake clock, same admin-API setup), so state-changing methods are compared on
 * equal footing. A JSON reply is compared through `comparable()` (see test/helpers/xmlReply.ts:
 * XML carries numbers as text and cannot tell "" from null); fields listed in `volatile` are
 * random per request (ids) and are compared by presence only.
 */

/** createOutbound's `contacts` (docs/http.md §9): a JSON array, one JSON text in a form, `<item>`s in XML. */
type Contacts = { number: string; keys: Record<string, string> }[];
type Value = string | { [name: string]: string } | Contacts;
type Body = Record<string, Value>;

interface Row {
  title: string;
  /** Prepare data through the admin API (or earlier calls) and return values the body needs. */
  setup?: (t: TestApp) => Promise<Record<string, string>>;
  /** The request parameters; nested objects are user-key objects (`key`). */
  body: (ctx: Record<string, string>) => Body;
  path?: string;
  status: number;
  volatile?: string[];
}

const HOOK = '/centraloutboundwebhook-v1/test/';
const CLI = '+919879964805';

/** Call the admin API (loopback, no token) during setup; fails the test on an unexpected status. */
async function admin(t: TestApp, verb: 'put' | 'post', path: string, body: object): Promise<Record<string, unknown>> {
  const res = await supertest(t.http)[verb](`/admin/test${path}`).send(body);
  if (res.status >= 300) throw new Error(`setup ${verb.toUpperCase()} ${path} → ${res.status} ${res.text}`);
  return res.body as Record<string, unknown>;
}

/** Send a JSON webhook request during setup. */
async function hook(t: TestApp, body: object): Promise<Record<string, unknown>> {
  const res = await supertest(t.http).post(HOOK).send(body);
  if (res.status >= 300) throw new Error(`setup ${JSON.stringify(body)} → ${res.status} ${res.text}`);
  return res.body as Record<string, unknown>;
}

const USER = { contactNumber: '9879964805', accountID: 'acme-01' };
/** A user with keys, one of which (`2fa`) is not an XML name and comes back as `<entry name>`. */
const userWithKeys = async (t: TestApp) =>
  (await hook(t, { method: 'updateUserPreferences', ...USER, key: { lang: 'hi', '2fa': 'on' } }), {});

const agent = (t: TestApp) => admin(t, 'put', `/agents/${encodeURIComponent(CLI)}`, { name: 'अनीता <Sharma> & "Co"', language: 'hi' });

const rows: Row[] = [
  { title: 'a request without method', body: () => ({ cli: '9879964805' }), status: 400 },
  { title: 'an unknown method', body: () => ({ method: 'noSuchMethod', cli: '9879964805' }), status: 400 },
  // updatePauseStatusForCLI (docs/http.md §2.1)
  {
    title: 'updatePauseStatusForCLI going on break with a reason',
    setup: async (t) => (await agent(t), {}),
    body: () => ({ method: 'updatePauseStatusForCLI', cli: '98799 64805', pause: 'true', reason: 'lunch' }),
    status: 200,
  },
  {
    title: 'updatePauseStatusForCLI asking for the state the agent already has',
    setup: async (t) => (await agent(t), {}),
    body: () => ({ method: 'updatePauseStatusForCLI', cli: '09879964805', pause: 'no' }),
    status: 200,
  },
  {
    title: 'updatePauseStatusForCLI for an unregistered agent',
    body: () => ({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: 'true' }),
    status: 404,
  },
  {
    title: 'updatePauseStatusForCLI with a pause that is not a boolean',
    setup: async (t) => (await agent(t), {}),
    body: () => ({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: 'maybe' }),
    status: 400,
  },
  // getPauseStatusForCLI (docs/http.md §2.2)
  {
    title: 'getPauseStatusForCLI of an agent on break',
    setup: async (t) => {
      await agent(t);
      await admin(t, 'post', `/agents/${encodeURIComponent(CLI)}/pause`, { pause: true, reason: 'चाय' });
      return {};
    },
    body: () => ({ method: 'getPauseStatusForCLI', cli: '+91 98799-64805' }),
    status: 200,
  },
  {
    title: 'getPauseStatusForCLI of an agent never changed',
    setup: async (t) => (await admin(t, 'put', `/agents/${encodeURIComponent(CLI)}`, {}), {}),
    body: () => ({ method: 'getPauseStatusForCLI', cli: '9879964805' }),
    status: 200,
  },
  {
    title: 'getPauseStatusForCLI of an unregistered agent',
    body: () => ({ method: 'getPauseStatusForCLI', cli: '9879964805' }),
    status: 404,
  },
  {
    title: 'getPauseStatusForCLI with an invalid number',
    body: () => ({ method: 'getPauseStatusForCLI', cli: '12' }),
    status: 400,
  },
  // updateUserPreferences (docs/http.md §2.5)
  {
    title: 'updateUserPreferences with a key object, merged into the keys the user has',
    setup: userWithKeys,
    body: () => ({ method: 'updateUserPreferences', ...USER, key: { city: 'पुणे', note: 'a <b> & "c"' } }),
    status: 200,
  },
  {
    title: 'updateUserPreferences for a new user',
    body: () => ({ method: 'updateUserPreferences', contactNumber: '+91 98799-64805', accountID: 'acme-01', key: { city: 'Pune' } }),
    status: 200,
  },
  {
    title: 'updateUserPreferences without accountID',
    body: () => ({ method: 'updateUserPreferences', contactNumber: '9879964805', key: { city: 'Pune' } }),
    status: 400,
  },
  {
    title: 'updateUserPreferences with a key name over 64 characters',
    body: () => ({ method: 'updateUserPreferences', ...USER, key: { ['k'.repeat(65)]: 'v' } }),
    status: 400,
  },
  // getUserPreferences (docs/http.md §2.5)
  {
    title: 'getUserPreferences of a user with keys',
    setup: userWithKeys,
    body: () => ({ method: 'getUserPreferences', ...USER }),
    status: 200,
  },
  {
    title: 'getUserPreferences of a user without keys',
    body: () => ({ method: 'getUserPreferences', ...USER }),
    status: 200,
  },
  {
    title: 'getUserPreferences with an invalid number',
    body: () => ({ method: 'getUserPreferences', contactNumber: '12', accountID: 'acme-01' }),
    status: 400,
  },
  // Short URL creation (docs/http.md §3), a route rather than a method, with the same body rules
  {
    title: 'short URL creation with a custom slug',
    path: '/UrlShortner/phonon/shortUrl',
    body: () => ({ custToken: 'abcd1234', longUrl: 'https://example.com/offer?id=7&lang=hi', customSlug: 'parity-slug' }),
    status: 200,
  },
  {
    title: 'short URL creation with a javascript: URL',
    path: '/UrlShortner/phonon/shortUrl',
    body: () => ({ custToken: 'abcd1234', longUrl: 'javascript:alert(1)' }),
    status: 400,
  },
  // /mapping/preview (docs/http.md §5)
  {
    title: '/mapping/preview of an XML document',
    path: '/mapping/preview',
    body: () => ({
      document: '<r xmlns:m="urn:m"><m:a id="7"> A &amp; B </m:a><b/><c><i>1</i><i>2</i></c></r>',
      mapping: JSON.stringify({ '$flow.key.a': 'r.a', '$flow.key.id': 'r.a.@id', '$flow.key.b': 'r.b', '$flow.key.i': 'r.c.i[1]', '$flow.key.x': 'r.x' }),
    }),
    status: 200,
  },
  {
    title: '/mapping/preview with a malformed path',
    path: '/mapping/preview',
    body: () => ({ document: '<r/>', mapping: JSON.stringify({ '$flow.key.a': 'r..a' }) }),
    status: 400,
  },
  {
    title: 'createOutbound',
    setup: async (t) => (await outboundClient(t), {}),
    body: () => outboundCreate({ contactNumbers: '9879964805, 91997974 6666;98000-00001', delayMinutes: '5' }),
    status: 200,
    volatile: ['obdReqID', 'obdPhononUUID'],
  },
  {
    title: 'createOutbound with invalid numbers',
    setup: async (t) => (await outboundClient(t), {}),
    body: () => outboundCreate({ contactNumbers: '9879964805, 12345;abc' }),
    status: 400,
  },
  {
    title: 'getOutboundStatus',
    setup: outboundRequest,
    body: (ctx) => ({ ...outboundAuth, method: 'getOutboundStatus', obdReqID: ctx.obdReqID! }),
    status: 200,
    volatile: ['obdReqID'],
  },
  {
    title: 'cancelOutbound',
    setup: outboundRequest,
    body: (ctx) => ({ ...outboundAuth, method: 'cancelOutbound', obdReqID: ctx.obdReqID! }),
    status: 200,
    volatile: ['obdReqID'],
  },
  // docs/http.md §9
  {
    title: 'createOutbound with contacts and their keys, and a category',
    setup: async (t) => (await outboundClient(t), {}),
    body: () =>
      outboundCreate({
        contacts: [
          { number: '9879964805', keys: { city: 'Pune', order: 'A-17' } },
          { number: '+91 99797 46666', keys: { city: 'मुंबई' } },
        ],
        category: 'service',
        expiresAt: '2026-01-16T10:00:00.000Z',
      }),
    status: 200,
    volatile: ['obdReqID', 'obdPhononUUID'],
  },
  {
    title: 'createOutbound with an invalid contact number',
    setup: async (t) => (await outboundClient(t), {}),
    body: () => outboundCreate({ contacts: [{ number: '12345', keys: { city: 'Pune' } }] }),
    status: 400,
  },
  {
    title: 'pauseOutbound',
    setup: outboundRequest,
    body: (ctx) => ({ ...outboundAuth, method: 'pauseOutbound', obdReqID: ctx.obdReqID! }),
    status: 200,
    volatile: ['obdReqID'],
  },
  {
    title: 'resumeOutbound',
    setup: async (t) => {
      const ctx = await outboundRequest(t);
      await hook(t, { ...outboundAuth, method: 'pauseOutbound', obdReqID: ctx.obdReqID! });
      return ctx;
    },
    body: (ctx) => ({ ...outboundAuth, method: 'resumeOutbound', obdReqID: ctx.obdReqID! }),
    status: 200,
    volatile: ['obdReqID'],
  },
];

const outboundAuth = { clientID: 'parity', securityID: 'p'.repeat(64) };

function outboundCreate(extra: Body): Body {
  return { method: 'createOutbound', apiVersion: '1.0', ...outboundAuth, flowID: 'PARITY01', ...extra };
}

async function outboundClient(t: TestApp): Promise<void> {
  await supertest(t.http).put('/admin/test/clients/parity').send({ securityID: outboundAuth.securityID, flows: ['PARITY01'] }).expect(201);
}

async function outboundRequest(t: TestApp): Promise<Record<string, string>> {
  await outboundClient(t);
  const res = await supertest(t.http).post(HOOK).send(outboundCreate({ contactNumbers: '9879964805,9800000001', delayMinutes: '5' }));
  return { obdReqID: res.body.obdReqID };
}

type Encoding = 'json' | 'form' | 'xml';

/** `/mapping/preview` takes its mapping as an object in JSON and XML, as JSON text in a form. */
function encode(body: Body, encoding: Encoding, path: string): { type: string; data: string } {
  const preview = path === '/mapping/preview';
  switch (encoding) {
    case 'json': {
      const obj: Record<string, unknown> = { ...body };
      if (preview && typeof body.mapping === 'string') obj.mapping = JSON.parse(body.mapping);
      return { type: 'application/json', data: JSON.stringify(obj) };
    }
    case 'form': {
      const form = new URLSearchParams();
      for (const [name, value] of Object.entries(body)) {
        if (typeof value === 'string') form.append(name, value);
        else if (Array.isArray(value)) form.append(name, JSON.stringify(value));
        else for (const [k, v] of Object.entries(value)) form.append(`${name}.${k}`, v);
      }
      return { type: 'application/x-www-form-urlencoded', data: form.toString() };
    }
    case 'xml': {
      const parts = Object.entries(body).map(([name, value]) => {
        if (preview && name === 'mapping' && typeof value === 'string') {
          const entries = Object.entries(JSON.parse(value) as Record<string, string>);
          return `<mapping>${entries.map(([k, v]) => `<entry name="${esc(k)}">${esc(v)}</entry>`).join('')}</mapping>`;
        }
        if (typeof value === 'string') return `<${name}>${esc(value)}</${name}>`;
        if (Array.isArray(value)) {
          const items = value.map((c) => `<item><number>${esc(c.number)}</number><keys>${Object.entries(c.keys).map(([k, v]) => `<${k}>${esc(v)}</${k}>`).join('')}</keys></item>`);
          return `<${name}>${items.join('')}</${name}>`;
        }
        return `<${name}>${Object.entries(value).map(([k, v]) => `<${k}>${esc(v)}</${k}>`).join('')}</${name}>`;
      });
      return { type: 'application/xml', data: `<?xml version="1.0" encoding="UTF-8"?><request>${parts.join('')}</request>` };
    }
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function ask(row: Row, encoding: Encoding, reply: 'json' | 'xml'): Promise<{ status: number; data: Json }> {
  const t = buildTestApp();
  try {
    const ctx = (await row.setup?.(t)) ?? {};
    const path = row.path ?? HOOK;
    const { type, data } = encode(row.body(ctx), encoding, path);
    const res = await supertest(t.http)
      .post(path)
      .set('Content-Type', type)
      .set('Accept', reply === 'xml' ? 'application/xml' : 'application/json')
      .send(data);
    expect(res.type, `${encoding} → ${reply}`).toBe(reply === 'xml' ? 'application/xml' : 'application/json');
    const parsed = reply === 'xml' ? parseXmlReply(res.text) : comparable(res.body);
    return { status: res.status, data: mask(parsed, row.volatile ?? []) };
  } finally {
    await t.close();
  }
}

/** Replace volatile fields (dotted paths) by a marker saying whether they had a value. */
function mask(data: Json, volatile: string[]): Json {
  const copy = structuredClone(data);
  for (const path of volatile) {
    const names = path.split('.');
    let node: Json = copy;
    for (const n of names.slice(0, -1)) node = node && typeof node === 'object' && !Array.isArray(node) ? (node[n] ?? null) : null;
    const last = names[names.length - 1]!;
    if (node && typeof node === 'object' && !Array.isArray(node) && last in node) node[last] = node[last] === null ? null : '<volatile>';
  }
  return copy;
}

describe('JSON/XML parity', () => {
  it('when the central webhook is built, then every method it serves has a successful parity row', async () => {
    const t = buildTestApp();
    try {
      const served = t.app.features.flatMap((f) => f.methods ?? []).map((m) => m.name).sort();
      const covered = new Set(rows.filter((r) => !r.path && r.status === 200).map((r) => r.body({ obdReqID: 'x' }).method));
      expect(served.length).toBeGreaterThanOrEqual(7);
      expect(served.filter((name) => !covered.has(name))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  for (const row of rows) {
    it(`when ${row.title} is sent as JSON, form and XML with JSON and XML replies, then all six answers agree`, async () => {
      const reference = await ask(row, 'json', 'json');
      expect(reference.status).toBe(row.status);
      for (const encoding of ['json', 'form', 'xml'] as const) {
        for (const reply of ['json', 'xml'] as const) {
          if (encoding === 'json' && reply === 'json') continue;
          const other = await ask(row, encoding, reply);
          expect({ combination: `${encoding} → ${reply}`, ...other }).toEqual({ combination: `${encoding} → ${reply}`, ...reference });
        }
      }
    });
  }
});
