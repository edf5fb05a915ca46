import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrate, openDatabase } from './db/open.js';
import { createLogger, logDestination } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { systemClock } from './clock.js';
import { createApp } from './app.js';
import { EventBus } from './events/bus.js';
import { listenForPeers } from './events/pgBus.js';
import { createServer } from './http/slowClients.js';
import { createSqliteStores } from './db/stores.sqlite.js';
import { createPgStores } from './db/stores.pg.js';
import { describePgUrl, migratePg, openPgPool, waitForPg } from './db/pg.js';
import type { Stores } from './db/stores.js';
import { withEnvFile } from './envFile.js';
import { holdInstanceLock, InstanceLockedError } from './db/instanceLock.js';
import { startWalCheckpointer } from './db/walCheckpointer.js';
import { listeningFields, startupWarnings } from './observability/startupReport.js';

/** Start-up: config → database → migrations → app → listen; graceful shutdown on SIGTERM/SIGINT. */

const SHUTDOWN_DEADLINE_MS = 9_000;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig(withEnvFile());
} catch (e) {
  fail(e instanceof ConfigError ? e.message : `Invalid configuration: .env ${(e as Error).message.split('\n')[0]}`);
}

// Read before anything is opened, so a missing or unreadable file is one line (docs/http.md §8.1).
let tls: { cert: Buffer; key: Buffer } | undefined;
if (config.TLS_CERT_FILE && config.TLS_KEY_FILE) {
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      fail(`Cannot read ${name}=${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  };
  tls = { cert: read('TLS_CERT_FILE', config.TLS_CERT_FILE), key: read('TLS_KEY_FILE', config.TLS_KEY_FILE) };
}

const logger = createLogger(config.LOG_LEVEL, logDestination());
/** SQLite (the default): one file, one process (docs/http.md §8.4). */
function openSqliteStores(path: string): { stores: Stores; release(): void } {
  try {
    const db = openDatabase(path);
    const lock = holdInstanceLock(path);
    migrate(db);
    const stores = createSqliteStores(db);
    if (db.memory) return { stores, release: () => lock.release() };
    // Checkpoints off the event loop (docs/http.md §8.6); the worker stops before the file closes,
    // so that the serving connection, the last one, checkpoints the rest and removes the WAL.
    const checkpointer = startWalCheckpointer(db, { onError: (message) => logger.warn(message) });
    const closeDb = stores.close;
    stores.close = async () => {
      await checkpointer.stop();
      await closeDb();
    };
    return { stores, release: () => lock.release() };
  } catch (e) {
    if (e instanceof InstanceLockedError) fail(e.message);
    fail(`Cannot open database at DATABASE_PATH=${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** PostgreSQL (docs/http.md §11): wait for it, then migrate (the first instance does; the others wait). */
async function openPgStores(url: string, bus: EventBus): Promise<{ stores: Stores; release(): void }> {
  const pool = openPgPool(url);
  try {
    await waitForPg(pool);
    await migratePg(pool);
  } catch (e) {
    fail(`Cannot use the database at DATABASE_URL=${describePgUrl(url)}: ${(e as Error).message.split('\n')[0]}`);
  }
  // Changes made through other instances reach this one's bus (docs/http.md §11).
  const origin = randomUUID();
  const stores = createPgStores(pool, origin);
  const peers = listenForPeers({ url, bus, pause: stores.pause, origin, logger });
  await peers.ready;
  const closePool = stores.close;
  // The listener first, so that no notification reads through a closed pool.
  stores.close = async () => {
    await peers.stop();
    await closePool();
  };
  return { stores, release: () => undefined };
}

const bus = new EventBus();
const { stores, release: releaseDatabase } = config.DATABASE_URL ? await openPgStores(config.DATABASE_URL, bus) : openSqliteStores(config.DATABASE_PATH);

let app: ReturnType<typeof createApp>;
try {
  app = createApp({ stores, config, logger, clock: systemClock, metrics: createMetrics(), bus });
} catch (e) {
  fail(`Start-up failed: ${(e as Error).message.split('\n')[0]}`);
}

let server: http.Server;
try {
  // Slow clients are cut off (docs/http.md §7.4).
  server = createServer(app.http, tls);
} catch (e) {
  fail(`Cannot use TLS_CERT_FILE/TLS_KEY_FILE: ${(e as Error).message.split('\n')[0]}`);
}
// Platforms keep connections alive; stay above common proxy idle timeouts.
server.keepAliveTimeout = 65_000;

server.on('error', (e: NodeJS.ErrnoException) => fail(`Cannot listen on ${config.HOST}:${config.PORT}: ${e.code ?? e.message}`));
server.listen(config.PORT, config.HOST, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  app.start();
  logger.info(listeningFields(config, `${scheme}://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`), 'listening');
  for (const warning of startupWarnings(config)) logger.warn(warning);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => {
    logger.error('shutdown deadline passed; exiting');
    logger.flush();
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  // Stop accepting; end SSE streams (their sockets close); let requests in flight finish, each
  // reply closing its connection; keep dropping keep-alive sockets that fall idle meanwhile, and
  // once nothing is in flight every socket left (a browser's preconnected spare counts as busy
  // to closeIdleConnections) (docs/http.md §8.3).
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  app.closing();
  const sweepConnections = () => (app.inFlight() === 0 ? server.closeAllConnections() : server.closeIdleConnections());
  sweepConnections();
  const sweep = setInterval(sweepConnections, 50);
  await closed;
  clearInterval(sweep);
  await app.stop();
  await stores.close();
  releaseDatabase();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
