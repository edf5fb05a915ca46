import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

interface Fixture {
  description: string;
  setup?: { pause?: boolean };
  request: { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string };
  expect: { status?: number; code?: string; pause?: boolean; reason?: string; callId?: string; heard?: string };
}

const DIR = join(import.meta.dirname, '../../fixtures/ivr');
const load = (kind: 'good' | 'bad') =>
  readdirSync(join(DIR, kind))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(DIR, kind, f), 'utf8')) as Fixture] as const);

let t: TestApp;

function send(f: Fixture) {
  const { method, path, headers = {}, body } = f.request;
  const req = method === 'GET' ? supertest(t.http).get(path) : supertest(t.http).post(path);
  req.set(headers);
  return body === undefined ? req : req.send(body);
}

beforeEach(async () => {
  t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
});
afterEach(async () => t.close());

describe('platform callbacks from fixtures/ivr/good', () => {
  it.each(load('good'))('when %s arrives, then the agent is recognised and the change recorded', async (_file, f) => {
    if (f.setup?.pause) await supertest(t.http).post('/admin/test/agents/9879964805/pause').send({ pause: true }).expect(200);
    const r = await send(f);
    expect(r.status, f.description).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(XMLValidator.validate(r.text)).toBe(true);
    expect(r.text).toContain(f.expect.heard!);
    const agent = (await supertest(t.http).get('/admin/test/agents/9879964805')).body;
    expect(agent.pause).toBe(f.expect.pause);
    if (f.expect.reason) expect(agent.reason).toBe(f.expect.reason);
    const events = (await supertest(t.http).get('/admin/test/events')).body as { callId: string; source: string }[];
    expect(events.at(-1)).toMatchObject({ callId: f.expect.callId, source: 'ivr' });
  });
});

describe('requests from fixtures/ivr/bad', () => {
  it.each(load('bad'))('when %s arrives, then the reply is XML with the expected status and nothing is stored', async (_file, f) => {
    const before = await tableCounts(t);
    const r = await send(f);
    expect(r.status, f.description).toBe(f.expect.status);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(XMLValidator.validate(r.text)).toBe(true);
    if (f.expect.heard) expect(r.text).toContain(f.expect.heard);
    if (f.expect.code) expect(new XMLParser().parse(r.text).response.error.code).toBe(f.expect.code);
    expect(await tableCounts(t)).toEqual(before);
  });
});
