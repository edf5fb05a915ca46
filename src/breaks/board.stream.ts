import type { Request, Response } from 'express';
import type { AgentChangeEvent, EventBus, PauseChangeEvent } from '../events/bus.js';
import { clientOf } from '../http/access.js';
import { AppError, rateLimited } from '../http/errors.js';
import type { Stage } from '../http/routing.js';
import type { LimitFor } from './report.js';

/**
 * Server-Sent Events for the supervisor board: each committed pause change of the stage is sent
 * as `event: pauseChange` with the bus event plus the limit of the new break, and each agent
 * added, changed or removed as `event: agentChange` `{stage, cli, change}`. Writing never
 * blocks the change: a client that stops reading (more than MAX_BUFFERED bytes unsent) is cut
 * off and reconnects by itself. An `event: ping` every HEARTBEAT_MS keeps proxies from closing
 * idle streams and lets the page notice a connection that died silently. `closeAll()` ends every stream when the server stops accepting and closes its socket,
 * so shutdown is not held up by open boards and a reconnecting browser cannot come back over a
 * kept-alive connection to the stopping process; from then on a new stream is refused with 503
 * (docs/http.md §8.3).
 */

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED = 1024 * 1024;
/** docs/http.md §7.4: open event streams per client address and in all; more → 429. */
export const STREAM_LIMITS = { perAddress: 10, total: 1_000 } as const;
export type StreamLimits = { perAddress: number; total: number };
const STREAM_RETRY_SECONDS = 5;

export interface PauseChangeMessage extends PauseChangeEvent {
  limitMinutes: number;
}

export function createBoardStream(bus: EventBus, limitFor: LimitFor, limits: StreamLimits = STREAM_LIMITS) {
  const clients = new Set<{ stage: Stage; req: Request; res: Response }>();
  /** Open streams per client address (docs/http.md §7.4). */
  const perAddress = new Map<string, number>();
  let closing = false;

  const onChange = (e: PauseChangeEvent) => {
    if (clients.size === 0) return;
    const msg: PauseChangeMessage = { ...e, limitMinutes: e.pause ? limitFor(e.reason) : 0 };
    const frame = `event: pauseChange\ndata: ${JSON.stringify(msg)}\n\n`;
    for (const c of clients) if (c.stage === e.stage) write(c.res, frame);
  };
  const onAgent = (e: AgentChangeEvent) => {
    const frame = `event: agentChange\ndata: ${JSON.stringify(e)}\n\n`;
    for (const c of clients) if (c.stage === e.stage) write(c.res, frame);
  };

  function write(res: Response, chunk: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  return {
    /** Serve one stream until the client goes away. */
    open(req: Request, res: Response, stage: Stage): void {
      if (closing) throw new AppError('UNAVAILABLE', 'the service is restarting; try again shortly', undefined, {}, { 'Retry-After': '2', Connection: 'close' });
      const address = clientOf(req).limitKey;
      const mine = perAddress.get(address) ?? 0;
      if (clients.size >= limits.total) throw rateLimited(STREAM_RETRY_SECONDS, `at most ${limits.total} event streams are open at once; try again later`);
      if (mine >= limits.perAddress) {
        throw rateLimited(STREAM_RETRY_SECONDS, `at most ${limits.perAddress} event streams per client address; close one first`);
      }
      res.status(200).set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.flushHeaders();
      // Reconnect after 2 s if the stream drops; the comment tells the browser the stream is live.
      res.write('retry: 2000\n: connected\n\n');
      const client = { stage, req, res };
      if (clients.size === 0) {
        bus.on('pauseChange', onChange);
        bus.on('agentChange', onAgent);
      }
      clients.add(client);
      perAddress.set(address, mine + 1);
      const heartbeat = setInterval(() => write(res, 'event: ping\ndata: {}\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const done = () => {
        clearInterval(heartbeat);
        if (!clients.delete(client)) return;
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
        if (clients.size === 0) {
          bus.off('pauseChange', onChange);
          bus.off('agentChange', onAgent);
        }
      };
      req.on('close', done);
      res.on('close', done);
    },
    closeAll(): void {
      closing = true;
      for (const c of [...clients]) {
        c.res.end(() => c.req.socket.destroy());
      }
    },
  };
}

export type BoardStream = ReturnType<typeof createBoardStream>;
