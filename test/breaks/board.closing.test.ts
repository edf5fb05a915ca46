import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';

/** What the service does with event streams once it is stopping (docs/http.md §8.3). */

let t: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
afterEach(async () => {
  await server.close();
  await t.close();
});

const get = (url: string) =>
  new Promise<http.IncomingMessage>((resolve, reject) => http.get(url, { agent: new http.Agent({ keepAlive: true }) }, resolve).on('error', reject));

describe('event streams while stopping (8)', () => {
  it('when the service starts stopping, then open streams end with their sockets closed and a new stream is 503 with Retry-After and Connection: close', async () => {
    t = buildTestApp();
    server = await listen(t.http);
    const stream = await get(`${server.url}/admin/test/events/stream`);
    expect(stream.statusCode).toBe(200);
    const socketClosed = new Promise<void>((resolve) => stream.socket.once('close', () => resolve()));
    const ended = new Promise<string>((resolve) => {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (text += c));
      stream.on('end', () => resolve(text));
    });

    t.app.closing();
    expect(await ended).toContain(': connected');
    await socketClosed;

    const again = await get(`${server.url}/admin/test/events/stream`);
    let body = '';
    again.setEncoding('utf8');
    for await (const c of again) body += c;
    expect(again.statusCode).toBe(503);
    expect(again.headers['retry-after']).toBe('2');
    expect(again.headers.connection).toBe('close');
    expect(JSON.parse(body).error.code).toBe('UNAVAILABLE');
    // Other requests are still answered, each closing its connection.
    const health = await get(`${server.url}/healthz`);
    health.resume();
    expect(health.statusCode).toBe(200);
    expect(health.headers.connection).toBe('close');
  });
});
