import http from 'node:http';
import type { Express } from 'express';
import { expressListener, expressMessages } from '../src/http/expressServer.js';

/**
 * How a comparator (the echo, bench/baseline.ts, and the twins, bench/twins/) listens. By default
 * Express's own `app.listen`, as issue 15 defines the leanest honest Express program. With
 * `BENCH_COMPARATOR_SERVER=lean` (`npm run bench -- --lean-comparators`) it is built the way the
 * service's server is (src/http/expressServer.ts, docs/http.md §8.7), so the ratio measures only
 * the service's own per-request work and none of the server construction the service avoids.
 */
export function listenComparator(app: Express, onListening?: (port: number) => void): http.Server {
  const port = Number(process.env.PORT ?? 0);
  const lean = process.env.BENCH_COMPARATOR_SERVER === 'lean';
  const server = lean ? http.createServer(expressMessages(app), expressListener(app)) : http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    onListening?.(typeof addr === 'object' && addr ? addr.port : 0);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
