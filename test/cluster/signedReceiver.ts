import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifiesSignature } from '../helpers/signedDelivery.js';

/** One POST as a receiver following README saw it: its `X-Central-Event-Id`, body and the status answered. */
export interface Got {
  id: string;
  body: Record<string, unknown>;
  status: number;
}

/**
 * A receiver of signed deliveries on 127.0.0.1 (change notifications, statusCallbackUrl): checks
 * each signature with `secret` (401 when it does not verify), answers 503 to the first
 * `failFirst` attempts of each event id, then 200, and records every attempt.
 */
export async function startSignedReceiver(secret: string, failFirst: number) {
  const got: Got[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['x-central-event-id'] ?? '');
      const signed = verifiesSignature(secret, req.headers, raw);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      const status = !signed ? 401 : n <= failFirst ? 503 : 200;
      got.push({ id, body: JSON.parse(raw) as Record<string, unknown>, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/breaks`,
    got,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
