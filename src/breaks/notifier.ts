import { randomUUID } from 'node:crypto';
import { iso, type Clock } from '../clock.js';
import type { PauseChangeEvent } from '../events/bus.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { NotificationStore, QueuedNotification } from './notifications.store.js';
import { EVENT_ID_HEADER, signatureHeaders } from './notify.signature.js';

/**
 * Change notifications: every committed pause change is POSTed as JSON to EVENTS_WEBHOOK_URL,
 * signed (notify.signature.ts). The change itself never waits: it only queues a row in the
 * outbox in its own transaction (notifications.store.ts). Senders on every instance claim due
 * rows under a lease, oldest first, so each notification goes out from one sender at a time;
 * connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter,
 * any other 4xx is the receiver refusing and is not retried. The outbox is durable: what is not
 * delivered when the service stops goes out after the next start (from any instance).
 * `X-Central-Event-Id` (and `id` in the body) is the same for every attempt of one change
 * (`{stage}-{event id}`), so receivers can de-duplicate the rare second delivery after a crash.
 */

export interface NotifierOptions {
  store: NotificationStore;
  url: string;
  secret: string;
  /** For the signature's timestamp. */
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** How long `stop()` keeps delivering what is due. */
  drainMs?: number;
  /** How often the outbox is looked at when nothing woke the sender (changes on other instances). */
  pollMs?: number;
  /** Notifications claimed at once. */
  batch?: number;
}

export interface ChangeNotification extends PauseChangeEvent {
  id: string;
  type: 'pause.changed';
}

export type Outcome = 'delivered' | 'retry' | 'refused';

const DEFAULTS = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 5_000, drainMs: 2_000, pollMs: 1_000, batch: 16 };
/** A claim outlives one attempt's timeout by this much before another sender may take it over. */
const LEASE_GRACE_MS = 5_000;

/** The notification of one queued change, as sent. */
export function notificationOf(q: QueuedNotification): ChangeNotification {
  const e = q.event;
  return {
    id: `${e.stage}-${e.id}`,
    type: 'pause.changed',
    stage: e.stage,
    at: iso(e.at),
    cli: e.cli,
    name: q.name,
    pause: e.pause,
    reason: e.reason,
    source: e.source,
    callId: e.callId,
  };
}

export class ChangeNotifier {
  private readonly opts: Required<NotifierOptions>;
  private readonly owner = randomUUID();
  private readonly host: string;
  private running = false;
  private stopping = false;
  private abandon = false;
  private loop: Promise<void> | undefined;
  private inflight: AbortController | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** The earliest retry this sender scheduled and has not claimed since. */
  private nextRetryAt = Infinity;

  constructor(options: NotifierOptions) {
    this.opts = { ...DEFAULTS, ...options };
    this.host = new URL(options.url).host;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was queued: look at the outbox now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Notifications in the outbox, delivered by no one yet. */
  pending(): Promise<number> {
    return this.opts.store.count();
  }

  /**
   * Keep delivering what is due for up to `drainMs`, then stop; an attempt still in flight is
   * interrupted and left in the outbox for the next start. Nothing is lost.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.wake();
    const deadline = setTimeout(() => {
      this.abandon = true;
      this.inflight?.abort();
      this.wakeUp?.();
    }, this.opts.drainMs);
    await this.loop;
    clearTimeout(deadline);
    this.running = false;
    const left = await this.pending().catch(() => undefined);
    if (left) this.opts.logger.warn({ undelivered: left }, 'events webhook notifications kept in the outbox for the next start');
  }

  private async run(): Promise<void> {
    while (!this.abandon) {
      let claimed = 0;
      try {
        this.woken = false;
        const now = Date.now();
        const batch = await this.opts.store.claim(this.owner, now, now + this.opts.timeoutMs + LEASE_GRACE_MS, this.opts.batch);
        claimed = batch.length;
        for (const q of batch) {
          if (this.abandon) {
            // Not attempted: due again at once, for whoever looks next.
            await this.opts.store.settle(this.owner, { kind: 'retry', eventId: q.event.id, attempts: q.attempts, dueAt: 0 });
            continue;
          }
          await this.deliver(q);
        }
      } catch (e) {
        this.opts.logger.error({ errType: (e as Error)?.name, errCode: (e as { code?: string })?.code }, 'events webhook outbox not readable');
      }
      // Stopping: done once nothing is due now.
      if (this.stopping && claimed === 0) return;
      if (claimed === 0 && !this.woken) await this.sleep(this.waitMs());
    }
  }

  private waitMs(): number {
    const now = Date.now();
    let wait = this.stopping ? 50 : this.opts.pollMs;
    if (this.nextRetryAt !== Infinity) {
      wait = Math.min(wait, Math.max(10, this.nextRetryAt - now));
      if (this.nextRetryAt <= now) this.nextRetryAt = Infinity;
    }
    return wait;
  }

  private async deliver(q: QueuedNotification): Promise<void> {
    const n = notificationOf(q);
    const result = await this.send(n);
    const { metrics, logger, store, maxAttempts } = this.opts;
    const key = { eventId: q.event.id, attempts: q.attempts };
    if (this.abandon && result === 'retry') {
      await store.settle(this.owner, { kind: 'retry', ...key, dueAt: 0 });
      return;
    }
    if (result === 'delivered' || result === 'refused' || q.attempts >= maxAttempts) {
      if (result !== 'delivered') {
        metrics.eventsWebhookDeliveries.inc({ result: 'failed' });
        logger.warn({ eventId: n.id, attempts: q.attempts, host: this.host }, 'events webhook notification not delivered; giving up');
      } else metrics.eventsWebhookDeliveries.inc({ result: 'delivered' });
      await store.settle(this.owner, { kind: 'done', ...key });
      return;
    }
    metrics.eventsWebhookDeliveries.inc({ result: 'retry' });
    const dueAt = Date.now() + this.backoff(q.attempts);
    await store.settle(this.owner, { kind: 'retry', ...key, dueAt });
    // Look again when it is due (a poll could be late for a short backoff).
    this.nextRetryAt = Math.min(this.nextRetryAt, dueAt);
  }

  /** Exponential backoff with "equal jitter": half the step fixed, half random, capped. */
  backoff(attempt: number): number {
    return notificationBackoff(attempt, this.opts.baseDelayMs, this.opts.maxDelayMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
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
    const ctrl = new AbortController();
    this.inflight = ctrl;
    try {
      return await postSigned(this.opts.url, this.opts.secret, Math.floor(this.opts.clock.now() / 1000), n.id, JSON.stringify(n), this.opts.timeoutMs, ctrl);
    } finally {
      this.inflight = undefined;
    }
  }
}

/**
 * One signed delivery attempt, shared by every notification the service sends (these change
 * notifications and createOutbound's statusCallbackUrl, docs/http.md §9): JSON POST with the
 * signature headers and `X-Central-Event-Id`, redirects not followed; 2xx delivered; a connection
 * error, a timeout, 408, 429 or 5xx may be retried; any other status is the receiver refusing.
 */
export async function postSigned(
  url: string,
  secret: string,
  timestampS: number,
  id: string,
  body: string,
  timeoutMs: number,
  ctrl: AbortController = new AbortController(),
): Promise<Outcome> {
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'central-webhooks',
        [EVENT_ID_HEADER]: id,
        ...signatureHeaders(secret, timestampS, body),
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
  }
}

/** Exponential backoff with "equal jitter" (half the step fixed, half random, capped), for every sender. */
export function notificationBackoff(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}
