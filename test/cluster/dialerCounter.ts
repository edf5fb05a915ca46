import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST of the HTTP dialer as the test dialer saw it. */
export interface Delivery {
  key: string;
  attempt: number;
  number: string;
  /** Which instance sent it: the last segment of the path it posted to (see `urlFor`). */
  from: string;
  /** The 2xx answer reached the instance's socket (false: the instance died before it could read it). */
  answered: boolean;
}

/**
 * A local test dialer for the HTTP dialer (`DIALER_URL`, src/outbound/httpDialer.ts): records each
 * POST's idempotency key and attempt and answers 200 after `delayMs`, so calls are in flight long
 * enough for an instance to be killed in the middle of them. Each instance may be given its own
 * URL (`urlFor(name)`), so the test knows which instance made each call.
 */
export async function startDialerCounter(delayMs: number) {
  const deliveries: Delivery[] = [];
  let holding = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { idempotencyKey: string; attempt: number; number: string };
      const from = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const d: Delivery = { key: body.idempotencyKey, attempt: body.attempt, number: body.number, from, answered: false };
      deliveries.push(d);
      const answer = () => {
        if (res.destroyed) return;
        if (holding) return void setTimeout(answer, 20);
        res.on('finish', () => (d.answered = true));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      };
      setTimeout(answer, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dial`,
    /** The dialer URL for one instance: its calls are recorded with `from: name`. */
    urlFor: (name: string) => `http://127.0.0.1:${port}/dial/${encodeURIComponent(name)}`,
    deliveries,
    /** Answer nothing until release(): an instance killed meanwhile has had no answer at all. */
    hold() {
      holding = true;
    },
    release() {
      holding = false;
    },
    byKey(): Map<string, Delivery[]> {
      const m = new Map<string, Delivery[]>();
      for (const d of deliveries) m.set(d.key, [...(m.get(d.key) ?? []), d]);
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
