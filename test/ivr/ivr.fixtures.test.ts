import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

/** Replays fixtures/ivr (see its README.md): real-shaped platform callbacks, good and bad. */

interface FixtureRequest {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Fixture {
  description: string;
  env?: Record<string, string>;
  setup?: { pause?: boolean };
  before?: FixtureRequest[];
  request: FixtureRequest;
  expect: { status?: number; contentType?: string; code?: string; pause?: boolean; reason?: string; callId?: string; heard?: string };
}

const DIR = join(import.meta.dirname, '../../fixtures/ivr');
const load = (kind: 'good' | 'bad') =>
  readdirSync(join(DIR, kind))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(DIR, kind, f), 'utf8')) as Fixture] as const);

let t: TestApp;

function send({ method, path, headers = {}, body }: FixtureRequest) {
  const api = supertest(t.http);
  const req = method === 'GET' ? api.get(path) : method === 'HEAD' ? api.head(path) : api.post(path);
  req.set(headers);
  return body === undefined ? req : req.send(body);
}

async function prepare(f: Fixture) {
  t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', ...f.env });
  await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
  if (f.setup?.pause) await supertest(t.http).post('/admin/test/agents/9879964805/pause').send({ pause: true }).expect(200);
  for (const r of f.before ?? []) expect((await send(r)).status, `before: ${r.method} ${r.path}`).toBeLessThan(400);
}

/** The reply's type, and for XML that it parses; a HEAD has the GET's headers and no body. */
async function checkReply(f: Fixture, r: supertest.Response) {
  const type = f.expect.contentType ?? 'application/xml';
  expect(r.headers['content-type']).toMatch(new RegExp(`^${type.replace('/', '\\/')}`));
  if (type === 'application/xml') expect(XMLValidator.validate(r.text)).toBe(true);
  if (f.request.method === 'HEAD') {
    expect(r.text ?? '').toBe('');
    const get = await send({ ...f.request, method: 'GET' });
    for (const h of ['content-type', 'content-length']) expect(r.headers[h], h).toBe(get.headers[h]);
  }
}

afterEach(async () => t.close());

describe('platform callbacks from fixtures/ivr/good', () => {
  it.each(load('good'))('when %s arrives, then the agent is recognised and the change recorded', async (_file, f) => {
    await prepare(f);
    const r = await send(f.request);
    expect(r.status, f.description).toBe(f.expect.status ?? 200);
    await checkReply(f, r);
    if (f.expect.heard) expect(r.text).toContain(f.expect.heard);
    const agent = (await supertest(t.http).get('/admin/test/agents/9879964805')).body;
    expect(agent.pause).toBe(f.expect.pause);
    if (f.expect.reason) expect(agent.reason).toBe(f.expect.reason);
    const events = (await supertest(t.http).get('/admin/test/events')).body as { callId: string; source: string }[];
    expect(events.at(-1)).toMatchObject({ callId: f.expect.callId, source: 'ivr' });
  });
});

describe('requests from fixtures/ivr/bad', () => {
  it.each(load('bad'))('when %s arrives, then the reply has the expected status and type and nothing is stored', async (_file, f) => {
    await prepare(f);
    const before = await tableCounts(t);
    const r = await send(f.request);
    expect(r.status, f.description).toBe(f.expect.status);
    await checkReply(f, r);
    if (f.expect.heard) expect(r.text).toContain(f.expect.heard);
    if (f.expect.code) expect(new XMLParser().parse(r.text).response.error.code).toBe(f.expect.code);
    expect(await tableCounts(t)).toEqual(before);
  });
});
