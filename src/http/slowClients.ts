import http from 'node:http';
import https from 'node:https';
import type { Express } from 'express';
import { expressListener, expressMessages } from './expressServer.js';

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

/**
 * The service's HTTP or HTTPS server for `app`, with the slow-client limits applied and requests
 * handed to the app without a prototype change (src/http/expressServer.ts).
 */
export function createServer(app: Express, tls?: https.ServerOptions, limits: SlowClientLimits = SLOW_CLIENT_LIMITS): http.Server {
  const options = { ...limits, ...expressMessages(app) };
  const listener = expressListener(app);
  return tls ? https.createServer({ ...tls, ...options }, listener) : http.createServer(options, listener);
}
