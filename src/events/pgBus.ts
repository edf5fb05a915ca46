import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import type { Stage } from '../http/routing.js';
import type { PgPauseStore } from '../pause/pause.store.pg.js';
import type { AgentChangeEvent, EventBus } from './bus.js';

/**
 * Cross-instance delivery of the bus on PostgreSQL (docs/http.md §11). The pause store NOTIFYs
 * `BUS_CHANNEL` inside each change's transaction with a tiny payload (the event id, or the agent
 * key of a profile change) and the id of the instance that made it; every instance LISTENs on one
 * dedicated connection (not from the pool) and re-emits other instances' changes on its local bus,
 * reading a pause event's row by id. Its own changes it already emitted locally, so it skips them.
 */
export const BUS_CHANNEL = 'cw_bus';

export type BusNotice =
  | { k: 'pause'; id: number }
  | { k: 'agent'; stage: Stage; cli: string | null; change: AgentChangeEvent['change'] };

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export interface PgBusOptions {
  url: string;
  bus: EventBus;
  pause: PgPauseStore;
  /** This instance's id: the store's `origin`. */
  origin: string;
  logger: Logger;
}

export interface PgBusListener {
  /** Resolves once the first LISTEN is in place (or the first attempt failed; it keeps retrying). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function listenForPeers(opts: PgBusOptions): PgBusListener {
  const { url, bus, pause, origin, logger } = opts;
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let delay = BACKOFF_MIN_MS;
  let everConnected = false;

  async function deliver(payload: string | undefined): Promise<void> {
    let msg: BusNotice & { o?: string };
    try {
      msg = JSON.parse(payload ?? '') as BusNotice & { o?: string };
    } catch {
      return;
    }
    if (msg.o === origin) return;
    if (msg.k === 'agent') {
      bus.emit('agentChange', { stage: msg.stage, cli: msg.cli, change: msg.change });
      return;
    }
    if (msg.k !== 'pause' || !Number.isSafeInteger(msg.id)) return;
    const found = await pause.changeEvent(msg.id);
    if (!found) return;
    const { event: e, name } = found;
    bus.emit('pauseChange', {
      stage: e.stage,
      at: new Date(e.at).toISOString(),
      cli: e.cli,
      name,
      pause: e.pause,
      reason: e.reason,
      source: e.source,
      callId: e.callId,
    });
  }

  function scheduleReconnect(): void {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, BACKOFF_MAX_MS);
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url, application_name: 'central-webhooks-bus', connectionTimeoutMillis: 10_000 });
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      if (client === c) client = undefined;
      c.end().catch(() => undefined);
      if (stopped) return;
      // Changes made on other instances until the LISTEN is back are not delivered here; the
      // board reloads its data when its stream reconnects (docs/http.md §11).
      logger.warn({ retryMs: delay }, 'event bus: lost the PostgreSQL listening connection; changes from other instances are not delivered until it is back');
      scheduleReconnect();
    };
    c.on('error', drop);
    c.on('end', drop);
    c.on('notification', (n) => {
      if (n.channel !== BUS_CHANNEL) return;
      deliver(n.payload).catch((e: unknown) => logger.error({ errType: (e as Error)?.name }, 'event bus: could not deliver a change from another instance'));
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${BUS_CHANNEL}`);
    } catch {
      drop();
      return;
    }
    if (stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    delay = BACKOFF_MIN_MS;
    if (everConnected) logger.warn('event bus: listening again; changes from other instances made while it was down were missed (open boards reload on reconnect)');
    everConnected = true;
  }

  return {
    ready: connect(),
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
