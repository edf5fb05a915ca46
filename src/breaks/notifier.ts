import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PauseChangeEvent } from '../events/bus.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { EVENT_ID_HEADER, signatureHeaders } from './notify.signature.js';

/**
 * Change notifications: every committed pause change is POSTed as JSON to EVENTS_WEBHOOK_URL,
 * signed (notify.signature.ts). The change itself never waits: `enqueue` only appends to a bounded
 * in-memory queue, and one sender delivers in commit order, retrying connection errors, timeouts,
 * 408, 429 and 5xx with exponential backoff and jitter; any other 4xx is the receiver refusing and
 * is not retried. A full queue drops its oldest notification (counted and logged). `stop()` gives
 * what is queued a short, bounded time to go out. Notifications are at-least-once per process:
 * `X-Central-Event-Id` (and `id` in the body) stay the same across retries so receivers can
 * de-duplicate.
 */

export interface NotifierOptions {
  url: string;
  secret: string;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  maxQueue?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** How long `stop()` keeps delivering what is queued. */
  drainMs?: number;
}

export interface ChangeNotification extends PauseChangeEvent {
  id: string;
  type: 'pause.changed';
}

type Outcome = 'delivered' | 'retry' | 'refused';

const DEFAULTS = { maxQueue: 10_000, maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 5_000, drainMs: 2_000 };

export class ChangeNotifier {
  private readonly opts: Required<NotifierOptions>;
  /** Waiting notifications; the one being sent or retried is `current`. */
  private readonly queue: ChangeNotification[] = [];
  private current: ChangeNotification | undefined;
  private sending: Promise<void> | undefined;
  private stopping = false;
  private abandon = false;
  private inflight: AbortController | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly host: string;

  constructor(options: NotifierOptions) {
    this.opts = { ...DEFAULTS, ...options };
    this.host = new URL(options.url).host;
  }

  /** Queue one change; returns at once and never throws. */
  enqueue(event: PauseChangeEvent): void {
    if (this.stopping) return;
    if (this.queue.length >= this.opts.maxQueue) {
      const dropped = this.queue.shift()!;
      this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'dropped' });
      this.opts.logger.warn({ eventId: dropped.id, queued: this.queue.length }, 'events webhook queue full; dropped the oldest notification');
    }
    this.queue.push({ id: randomUUID(), type: 'pause.changed', ...event });
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Notifications not yet delivered (including one being sent or retried). */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Stop taking changes; keep delivering for up to `drainMs`, then give up on the rest. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    if (this.sending) {
      const deadline = new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.abandon = true;
          this.inflight?.abort();
          this.wakeUp?.();
          resolve();
        }, this.opts.drainMs);
        void this.sending!.finally(() => {
          clearTimeout(t);
          resolve();
        });
      });
      await deadline;
      await this.sending;
    }
    if (this.pending) {
      this.opts.logger.warn({ undelivered: this.pending }, 'events webhook notifications not delivered before shutdown');
      this.queue.length = 0;
      this.current = undefined;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.abandon) {
      const n = this.queue.shift()!;
      this.current = n;
      let attempt = 0;
      for (;;) {
        attempt += 1;
        const result = await this.send(n);
        if (this.abandon) return;
        if (result === 'delivered' || result === 'refused' || attempt >= this.opts.maxAttempts) {
          if (result !== 'delivered') {
            this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'failed' });
            this.opts.logger.warn({ eventId: n.id, attempts: attempt, host: this.host }, 'events webhook notification not delivered; giving up');
          } else this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'delivered' });
          break;
        }
        this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'retry' });
        await this.sleep(this.backoff(attempt));
        if (this.abandon) return;
      }
      this.current = undefined;
    }
  }

  /** Exponential backoff with "equal jitter": half the step fixed, half random, capped. */
  backoff(attempt: number): number {
    const step = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 1));
    return step / 2 + Math.random() * (step / 2);
  }

  private sleep(ms: number): Promise<void> {
    // While stopping, the drain deadline (not the backoff) decides when to give up.
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, this.stopping ? Math.min(ms, 100) : ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => {
      this.wakeUp = undefined;
    });
  }

  private async send(n: ChangeNotification): Promise<Outcome> {
    const body = JSON.stringify(n);
    const timestampS = Math.floor(this.opts.clock.now() / 1000);
    const ctrl = new AbortController();
    this.inflight = ctrl;
    const timer = setTimeout(() => ctrl.abort(), this.opts.timeoutMs);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'central-webhooks',
          [EVENT_ID_HEADER]: n.id,
          ...signatureHeaders(this.opts.secret, timestampS, body),
        },
        body,
        signal: ctrl.signal,
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'delivered';
      if (res.status === 408 || res.status === 429 || res.status >= 500) return 'retry';
      return 'refused';
    } catch {
      return 'retry';
    } finally {
      clearTimeout(timer);
      this.inflight = undefined;
    }
  }
}
