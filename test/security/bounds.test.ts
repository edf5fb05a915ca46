import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { MAX_MAPPING_ENTRIES } from '../../src/mapping/preview.service.js';
import { parsePath, readPath } from '../../src/xml/paths.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { HOOK, createOutbound, seed, snapshot } from './attack.helpers.js';

/** Issue 10, holes 7 and 9: nothing hostile costs more than it sends (docs/http.md §7.4). */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const nested = (depth: number, inner = '"9879964805"') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('malformed percent-encoding in a path (hole 9)', () => {
  it('when a path segment is not valid percent-encoding, then 400 INVALID_PARAMETER or 404 on every route family, never 500', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const paths: [string, string][] = [
      ['get', '/UrlShortner/phonon/stats/%ff?custToken=abcd1234'],
      ['get', '/admin/prod/agents/%ff'],
      ['put', '/admin/prod/agents/%E0%A4%A'],
      ['delete', '/admin/prod/agents/%'],
      ['get', '/admin/%ff/agents'],
      ['put', '/admin/prod/clients/%c0%af'],
      ['post', '/ivr/%ff/inbound'],
      ['get', '/%ff'],
      ['post', '/centraloutboundwebhook-v1/%ff/'],
      ['get', '/admin/prod/reports/breaks?cli=%ff'],
      ['post', '/mapping/%ff'],
    ];
    for (const [method, path] of paths) {
      const r = await supertest(t.http)[method as 'get'](path).send({ name: 'x' });
      expect([400, 404], `${method} ${path}`).toContain(r.status);
      // /ivr answers its errors in XML (docs/http.md §4), the other routes in JSON.
      const code = r.type === 'application/xml' ? /<code>([^<]*)<\/code>/.exec(r.text)?.[1] : r.body.error?.code;
      if (r.status === 400) expect(code, path).toBe('INVALID_PARAMETER');
    }
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('deep JSON (hole 9)', () => {
  it('when contactNumbers is nested thousands of levels deep, then 400 INVALID_JSON and nothing is scheduled', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const body = JSON.stringify({ ...createOutbound, contactNumbers: null }).replace('null', nested(20_000));
    const r = await supertest(t.http).post(HOOK).set('Content-Type', 'application/json').send(body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_JSON');
    expect(r.body.obdResponseCode ?? 400).toBe(400);
    expect(await snapshot(t)).toEqual(before);
  });

  it('when JSON is nested exactly 100 levels, then it is parsed; 101 levels are refused', async () => {
    t = buildTestApp();
    const ok = await supertest(t.http).post('/mapping/preview').set('Content-Type', 'application/json').send(`{"document":${nested(99, '"x"')},"mapping":{}}`);
    expect(ok.status).toBe(200);
    const deep = await supertest(t.http).post('/mapping/preview').set('Content-Type', 'application/json').send(`{"document":${nested(100, '"x"')},"mapping":{}}`);
    expect(deep.status).toBe(400);
    expect(deep.body.error.code).toBe('INVALID_JSON');
    // A document given as JSON text is bounded the same way; brackets inside strings do not count.
    const text = await supertest(t.http).post('/mapping/preview').send({ document: nested(150, '"x"'), mapping: {} });
    expect(text.status).toBe(400);
    expect(text.body.error).toMatchObject({ code: 'INVALID_JSON', field: 'document' });
    const inString = await supertest(t.http).post('/mapping/preview').send({ document: JSON.stringify({ a: '['.repeat(500) }), mapping: { v: 'a' } });
    expect(inString.status).toBe(200);
  });
});

describe('error messages are bounded (hole 9)', () => {
  it('when a 63 KB XML body is malformed, then the message is at most 300 characters and quotes at most 64 of the input', async () => {
    t = buildTestApp();
    const tag = 'a'.repeat(31_000); // open and close tags: about 62 KB
    const r = await supertest(t.http).post(HOOK).set('Accept', 'application/json').set('Content-Type', 'application/xml').send(`<${tag}><b></c></${tag}>`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_XML');
    expect([...r.body.error.message].length).toBeLessThanOrEqual(300);
    expect(r.body.error.message).not.toContain('a'.repeat(65));
    expect(r.text.length).toBeLessThan(1_000);
  });

  it('when a long name or path is at fault, then the message quotes at most 64 characters of it and field at most 128', async () => {
    t = buildTestApp();
    const long = `v${'x'.repeat(5_000)}`;
    const path = await supertest(t.http).post('/mapping/preview').send({ document: '{}', mapping: { [long]: `a..${'b'.repeat(900)}` } });
    expect(path.status).toBe(400);
    expect([...path.body.error.message].length).toBeLessThanOrEqual(300);
    expect([...path.body.error.field].length).toBeLessThanOrEqual(128);
    expect(path.body.error.message).not.toMatch(/x{64}/);
    const key = await supertest(t.http).post(HOOK).send({ method: 'updateUserPreferences', contactNumber: '9879964805', accountID: 'a1', [`key.${'k'.repeat(3000)}!`]: 'v' });
    expect(key.status).toBe(400);
    expect(key.body.error.message).not.toMatch(/k{64}/);
    expect([...key.body.error.field].length).toBeLessThanOrEqual(128);
  });

  it('when invalid contact numbers are huge, then error.invalid lists each with at most 64 characters', async () => {
    t = buildTestApp();
    await seed(t);
    const r = await supertest(t.http).post(HOOK).send({ ...createOutbound, contactNumbers: ['9'.repeat(20_000), 'x'.repeat(20_000)] });
    expect(r.status).toBe(400);
    expect(r.body.error.invalid).toHaveLength(2);
    for (const entry of r.body.error.invalid as string[]) expect([...entry].length).toBeLessThanOrEqual(64);
    expect(r.text.length).toBeLessThan(1_000);
  });
});

describe('NUL characters (found by the fuzz test on PostgreSQL)', () => {
  it('when a parameter holds U+0000, then 400 INVALID_PARAMETER naming it, with the method’s failure fields, and nothing changes', async () => {
    t = buildTestApp();
    await seed(t);
    const before = await snapshot(t);
    const dial = await supertest(t.http).post(HOOK).send({ ...createOutbound, clientID: 'ac\u0000me' });
    expect(dial.status).toBe(400);
    expect(dial.body).toMatchObject({ obdResponseCode: 400, obdReqID: null, error: { code: 'INVALID_PARAMETER', field: 'clientID' } });
    const pause = await supertest(t.http).post(HOOK).send({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: true, reason: 'lu\u0000nch' });
    expect(pause.body).toMatchObject({ cli_pause_update: false, error: { code: 'INVALID_PARAMETER', field: 'reason' } });
    const prefs = await supertest(t.http).post(HOOK).send({ method: 'updateUserPreferences', contactNumber: '9879964805', accountID: 'a1', key: { city: 'Pu\u0000ne' } });
    expect(prefs.status).toBe(400);
    const agent = await supertest(t.http).put('/admin/prod/agents/9879964807').type('json').send('{"name":"A\\u0000B"}');
    expect(agent.status).toBe(400);
    const form = await supertest(t.http).post(HOOK).type('form').send('method=getPauseStatusForCLI&cli=98799%0064805');
    expect(form.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'cli' });
    expect(await snapshot(t)).toEqual(before);
  });
});

describe('/mapping/preview cost (hole 7)', () => {
  it(`when a preview has more than ${MAX_MAPPING_ENTRIES} mapping entries, then 400 INVALID_PARAMETER naming mapping`, async () => {
    t = buildTestApp();
    const mapping = Object.fromEntries(Array.from({ length: MAX_MAPPING_ENTRIES + 1 }, (_, i) => [`$flow.key.v${i}`, `r.k${i}`]));
    const r = await supertest(t.http).post('/mapping/preview').send({ document: '{"r":{}}', mapping });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'mapping' });
    delete mapping[`$flow.key.v${MAX_MAPPING_ENTRIES}`];
    expect((await supertest(t.http).post('/mapping/preview').send({ document: '{"r":{}}', mapping })).status).toBe(200);
  });

  it('when many paths miss on a node with many members, then the node’s members are listed once, not once per path', () => {
    let listings = 0;
    const members = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`ns:k${i}`, String(i)]));
    const node = new Proxy(members, {
      ownKeys(target) {
        listings++;
        return Reflect.ownKeys(target);
      },
    });
    const doc = { kind: 'json' as const, root: { r: node } };
    for (let i = 0; i < MAX_MAPPING_ENTRIES; i++) expect(readPath(doc, parsePath(`r.missing${i}`))).toBeNull();
    expect(readPath(doc, parsePath('r.k2999'))).toBe('2999');
    expect(listings).toBe(1);
  });

  it('when an XML document has many <entry name> fields, then they are indexed once for all paths', () => {
    let reads = 0;
    const entries = Array.from({ length: 3_000 }, (_, i) => ({ '@name': `e${i}`, '#text': `v${i}` }));
    const list = new Proxy(entries, {
      get(target, prop, receiver) {
        if (prop === Symbol.iterator) reads++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const doc = { kind: 'xml' as const, root: { r: { entry: list } } };
    for (let i = 0; i < MAX_MAPPING_ENTRIES; i++) readPath(doc, parsePath(`r.q${i}`));
    expect(reads).toBe(1);
  });
});
