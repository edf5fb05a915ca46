import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';

/**
 * docs/http.md §7.4: a slow client may not hold a connection. The request head must arrive within
 * 10 s and the whole request within 30 s, else Node answers 408 and closes the connection. Node
 * checks these deadlines every `connectionsCheckingInterval` (30 s by default, which would let a
 * slow client stay up to 40 s); once a second keeps them close to the limits. A response that is
 * being streamed (an event stream) is not a request still arriving and is not cut.
 */
export const SLOW_CLIENT_LIMITS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  connectionsCheckingInterval: 1_000,
} as const;

export type SlowClientLimits = { [K in keyof typeof SLOW_CLIENT_LIMITS]: number };

/** The service's HTTP or HTTPS server with the slow-client limits applied. */
export function createServer(
  listener: RequestListener,
  tls?: https.ServerOptions,
  limits: SlowClientLimits = SLOW_CLIENT_LIMITS,
): http.Server {
  return tls ? https.createServer({ ...tls, ...limits }, listener) : http.createServer({ ...limits }, listener);
}
