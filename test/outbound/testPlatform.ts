import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../helpers/listen.js';
import type { DialRequest } from '../../src/outbound/dialer.js';

/** One POST the dialer sent to the test platform. */
export interface Received {
  body: DialRequest;
  headerKey: string | undefined;
}

/**
 * A telephony platform on 127.0.0.1 for the HTTP dialer: records every POST and answers as
 * `respond` decides — a status, or 'hang' (never answers until closed).
 */
export async function startPlatform(respond: (r: Received, index: number) => number | 'hang' | Promise<number> = () => 200) {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headerKey: req.headers['idempotency-key'] as string | undefined };
      received.push(r);
      void Promise.resolve(respond(r, received.length - 1)).then((answer) => {
        if (answer === 'hang') {
          hanging.add(res);
          return;
        }
        res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: answer < 300 }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dial`,
    received,
    /** How many POSTs each idempotency key got. */
    countsByKey(): Map<string, number> {
      const m = new Map<string, number>();
      for (const r of received) m.set(r.body.idempotencyKey, (m.get(r.body.idempotencyKey) ?? 0) + 1);
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (for refused connections). */
export const closedPort = freePort;
