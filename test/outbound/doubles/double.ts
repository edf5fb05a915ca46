import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What every platform double shares: an HTTP server on 127.0.0.1 that records each request (method,
 * path, Basic-auth credentials, parsed form or JSON body) and answers through the platform file's
 * handler, plus the helper that sends the platform's status callback back to the service.
 */

export interface Recorded {
  method: string;
  path: string;
  /** `user:password` from the Basic Authorization header, or undefined. */
  auth: string | undefined;
  contentType: string;
  /** Form fields (repeated names keep every value, in order) or the JSON body's fields. */
  fields: Record<string, string | string[]>;
  json: Record<string, unknown> | undefined;
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Record<string, unknown>;
}

/** A test's say over one request before the platform's own answer: a reply, 'hang', or a delay. */
export type Override = (r: Recorded, index: number) => Reply | 'hang' | { delayMs: number } | undefined | Promise<Reply | 'hang' | { delayMs: number } | undefined>;

export interface DoubleServer {
  url: string;
  received: Recorded[];
  /** Requests being answered right now (for concurrency assertions). */
  inFlight(): number;
  maxInFlight(): number;
  close(): Promise<void>;
}

export async function startDouble(handle: (r: Recorded) => Reply | Promise<Reply>, override?: Override): Promise<DoubleServer> {
  const received: Recorded[] = [];
  const hanging = new Set<http.ServerResponse>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const text = Buffer.concat(chunks).toString('utf8');
      const contentType = String(req.headers['content-type'] ?? '');
      const r: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        auth: basicCredentials(req.headers.authorization),
        contentType,
        fields: {},
        json: undefined,
        at: Date.now(),
      };
      if (contentType.startsWith('application/json') && text) {
        r.json = JSON.parse(text) as Record<string, unknown>;
        for (const [k, v] of Object.entries(r.json)) r.fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
      } else if (text) {
        for (const [k, v] of new URLSearchParams(text)) {
          const prev = r.fields[k];
          r.fields[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
        }
      }
      received.push(r);
      void (async () => {
        const forced = override ? await override(r, received.length - 1) : undefined;
        if (forced === 'hang') {
          hanging.add(res);
          return;
        }
        if (forced && 'delayMs' in forced) await new Promise((ok) => setTimeout(ok, forced.delayMs));
        const reply = forced && 'status' in forced ? forced : await handle(r);
        inFlight -= 1;
        const body = typeof reply.body === 'string' || reply.body === undefined ? (reply.body ?? '') : JSON.stringify(reply.body);
        const type = typeof reply.body === 'object' ? 'application/json; charset=utf-8' : 'text/plain';
        res.writeHead(reply.status, { 'content-type': type, ...reply.headers }).end(body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function basicCredentials(header: string | undefined): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : undefined;
}

/** POST a callback the way a platform does; the service's reply status and text come back. */
export async function postCallback(
  url: string,
  body: { form: [string, string][] } | { json: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers:
      'form' in body
        ? { 'content-type': 'application/x-www-form-urlencoded', ...headers }
        : { 'content-type': 'application/json', ...headers },
    body: 'form' in body ? new URLSearchParams(body.form).toString() : JSON.stringify(body.json),
  });
  return { status: res.status, text: await res.text() };
}

export function randomHex(n: number): string {
  return Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}
