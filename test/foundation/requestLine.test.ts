import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import pino from 'pino';
import { requestLine } from '../../src/http/requestLog.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

/**
 * The request line is built without pino (src/http/requestLog.ts) but must read as pino's own
 * line of the same fields (docs/http.md §0, §8.1), and replies written without res.json must
 * carry what Express gave them.
 */

let t: TestApp | undefined;
afterEach(() => t?.close());

/** What pino itself writes at info for `fields` and the message `request`. */
function pinoLine(fields: Record<string, unknown>): string {
  const out: string[] = [];
  const logger = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) }));
  logger.info(fields, 'request');
  return out.join('');
}

const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"…"');

describe('request line', () => {
  it('when built, then it is byte for byte the line pino writes for the same fields, apart from the time', () => {
    const fields = { reqId: 'abc-1', method: 'POST', route: '/centraloutboundwebhook-v1/:stage', status: 400, durationMs: 1.3, webhookMethod: 'updateUserPreferences', code: 'UNKNOWN_METHOD' };
    const ours = requestLine(fields.reqId, fields.method, fields.route, fields.status, fields.durationMs, fields.webhookMethod, fields.code);
    expect(withoutTime(ours)).toBe(withoutTime(pinoLine(fields)));
    expect(JSON.parse(ours).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const plain = requestLine('abc-2', 'GET', 'unmatched', 404, 0.2);
    expect(withoutTime(plain)).toBe(withoutTime(pinoLine({ reqId: 'abc-2', method: 'GET', route: 'unmatched', status: 404, durationMs: 0.2 })));
  });

  it('when a route or code holds quotes, backslashes or control characters, then the line is still one valid JSON line', () => {
    const line = requestLine('r', 'GET', '/a"b\\c\n', 200, 0, 'm"\u0001', 'C\u2028');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ route: '/a"b\\c\n', webhookMethod: 'm"\u0001', code: 'C\u2028', msg: 'request' });
  });

  it('when a request carries a malformed X-Request-Id, then a UUID is logged and echoed instead', async () => {
    t = buildTestApp();
    const r = await request(t.http).get('/healthz').set('X-Request-Id', 'bad id"\\');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const line = t.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === r.headers['x-request-id']);
    expect(line).toMatchObject({ method: 'GET', route: '/healthz', status: 200, level: 30 });
  });
});

describe('replies without res.json', () => {
  it('when a JSON reply is asked for with HEAD, then it has the GET reply’s Content-Type and Content-Length and no body', async () => {
    t = buildTestApp();
    const get = await request(t.http).get('/healthz');
    const head = await request(t.http).head('/healthz');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(Number(get.headers['content-length'])).toBe(Buffer.byteLength(get.text));
    expect(head.text ?? '').toBe('');
  });

  it('when an error is answered in XML, then the reply is XML with its exact length', async () => {
    t = buildTestApp();
    const r = await request(t.http).post('/centraloutboundwebhook-v1/test/').set('Accept', 'application/xml').send({ method: 'noSuchMethod' });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    expect(r.text).toContain('UNKNOWN_METHOD');
  });
});
