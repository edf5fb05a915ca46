import pg from 'pg';
import { iso } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { Stage } from '../http/routing.js';
import type { PgPauseStore } from '../pause/pause.store.pg.js';
import type { PauseEventRecord } from '../pause/pause.store.js';
import type { AgentChangeEvent, EventBus } from './bus.js';

/**
 * Cross-instance delivery of the bus on PostgreSQL (docs/http.md §11). The pause store NOTIFYs
 * `BUS_CHANNEL` inside each change's transaction with a tiny payload (the event id, or the agent
 * key of a profile change) and the id of the instance that made it; every instance LISTENs on one
 * dedicated connection (not from the pool) and re-emits other instances' changes on its local bus,
 * reading a pause event's row by id. Its own changes it already emitted locally, so it skips them.
 * When the connection is lost it reconnects with backoff, and once it listens again it catches up:
 * the pause events other instances made after the newest one it had seen (less a small window,
 * for changes that committed out of id order) are read from the table and emitted, each once,
 * and every stage gets an `agentChange` for "several agents" so boards reload profiles changed
 * meanwhile.
 */
export const BUS_CHANNEL = 'cw_bus';

export type BusNotice =
  | { k: 'pause'; id: number }
  | { k: 'agent'; stage: Stage; cli: string | null; change: AgentChangeEvent['change'] };

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Ids at most this far below the newest seen are looked at again on catch-up (commit order ≠ id order). */
const CATCH_UP_WINDOW = 256;
/** Pause events read per catch-up query. */
const CATCH_UP_BATCH = 500;
/** Pause event ids emitted recently, so that one is never emitted twice (notification and catch-up). */
const RECENT_IDS = 4_096;
const STAGES: Stage[] = ['prod', 'test'];

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

  /** The newest pause event id known here (seen notified, or read); catch-up reads after it. */
  let lastId = 0;
  /** Ids below this were committed before this instance listened the first time: never replayed. */
  let floor = 0;
  const recent = new Set<number>();

  function emitPause(e: PauseEventRecord, name: string | null): void {
    if (recent.has(e.id)) return;
    recent.add(e.id);
    if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value as number);
    bus.emit('pauseChange', {
      stage: e.stage,
      at: iso(e.at),
      cli: e.cli,
      name,
      pause: e.pause,
      reason: e.reason,
      source: e.source,
      callId: e.callId,
    });
  }

  async function deliver(payload: string | undefined): Promise<void> {
    let msg: BusNotice & { o?: string };
    try {
      msg = JSON.parse(payload ?? '') as BusNotice & { o?: string };
    } catch {
      return;
    }
    if (msg.k === 'pause' && Number.isSafeInteger(msg.id)) lastId = Math.max(lastId, msg.id);
    if (msg.o === origin) return;
    if (msg.k === 'agent') {
      bus.emit('agentChange', { stage: msg.stage, cli: msg.cli, change: msg.change });
      return;
    }
    if (msg.k !== 'pause' || !Number.isSafeInteger(msg.id)) return;
    // No board or event stream open here: nobody to show the change to, so its row is not read.
    if (bus.listenerCount('pauseChange') === 0) return;
    const found = await pause.changeEvent(msg.id);
    if (found) emitPause(found.event, found.name);
  }

  /** After a reconnect: what other instances changed while this one was not listening. */
  async function catchUp(): Promise<void> {
    let after = Math.max(floor, lastId - CATCH_UP_WINDOW);
    for (;;) {
      const missed = await pause.othersChangesAfter(after, CATCH_UP_BATCH);
      for (const { event, name } of missed) {
        emitPause(event, name);
        after = event.id;
        lastId = Math.max(lastId, event.id);
      }
      if (missed.length < CATCH_UP_BATCH) break;
    }
    // Profiles saved or deleted meanwhile are not in a table of changes: boards reload them all.
    for (const stage of STAGES) bus.emit('agentChange', { stage, cli: null, change: 'imported' });
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
      // Changes made on other instances until the LISTEN is back are delivered when it is (catchUp).
      logger.warn({ retryMs: delay }, 'event bus: lost the PostgreSQL listening connection; changes from other instances are delivered once it is back');
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
    if (!everConnected) {
      everConnected = true;
      // Listening from here on: everything committed before is the past, not something missed.
      floor = lastId = Math.max(lastId, await pause.lastEventId().catch(() => 0));
      return;
    }
    logger.warn('event bus: listening again; catching up on changes other instances made meanwhile');
    await catchUp().catch((e: unknown) => logger.error({ errType: (e as Error)?.name }, 'event bus: could not catch up on changes made while it was not listening'));
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
