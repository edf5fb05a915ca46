import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { notificationOf } from './changeNotification.js';
import type { OutboxStore, QueuedDelivery } from './outbox.store.js';
import { EVENT_ID_HEADER, signatureHeaders } from './signature.js';

/**
 * The one sender of every signed delivery in the outbox (outbox.store.ts): change notifications
 * of committed pause changes to EVENTS_WEBHOOK_URL (docs/http.md §11) and createOutbound's
 * statusCallbackUrl deliveries to each request's own URL (docs/http.md §9.6). The change itself
 * never waits: it only writes a row in the outbox in its own transaction. Senders on every
 * instance claim due rows under a lease, oldest first, so each delivery goes out from one sender
 * at a time; connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff
 * and jitter, any other 4xx is the receiver refusing and is not retried. Every body is signed
 * with EVENTS_WEBHOOK_SECRET (signature.ts). The outbox is durable: what is not delivered when
 * the service stops goes out after the next start (from any instance). `X-Central-Event-Id` (and
 * `id` in the body) is the same for every attempt of one delivery, so receivers can de-duplicate
 * the rare second delivery after a sender died between delivering and recording it.
 */

export interface SenderOptions {
  store: OutboxStore;
  /** EVENTS_WEBHOOK_URL, where change notifications go; without it they are dropped (logged). */
  eventsUrl?: string;
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
  /** Deliveries claimed at once. */
  batch?: number;
}

export type Outcome = 'delivered' | 'retry' | 'refused';

/** One delivery as sent: where, its id, its exact bytes. */
interface Outgoing {
  url: string;
  id: string;
  body: string;
}

const DEFAULTS = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 5_000, drainMs: 2_000, pollMs: 1_000, batch: 16 };
/** A claim outlives one attempt's timeout by this much before another sender may take it over. */
const LEASE_GRACE_MS = 5_000;

export class OutboxSender {
  private readonly opts: Required<Omit<SenderOptions, 'eventsUrl'>> & Pick<SenderOptions, 'eventsUrl'>;
  private readonly owner = randomUUID();
  private running = false;
  private stopping = false;
  private abandon = false;
  private loop: Promise<void> | undefined;
  private inflight: AbortController | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** The earliest retry this sender scheduled and has not claimed since. */
  private nextRetryAt = Infinity;

  constructor(options: SenderOptions) {
    this.opts = { ...DEFAULTS, ...options };
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

  /** Deliveries in the outbox, delivered by no one yet. */
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
    if (left) this.opts.logger.warn({ undelivered: left }, 'signed deliveries kept in the outbox for the next start');
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
            await this.opts.store.settle(this.owner, { kind: 'retry', rowId: q.rowId, attempts: q.attempts, dueAt: 0 });
            continue;
          }
          await this.deliver(q);
        }
      } catch (e) {
        this.opts.logger.error({ errType: (e as Error)?.name, errCode: (e as { code?: string })?.code }, 'delivery outbox not readable');
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

  /** What goes out for a claimed row: a change notification is built now, a callback was built when written. */
  private outgoing(q: QueuedDelivery): Outgoing | undefined {
    if (q.type !== 'pause.changed') return { url: q.url, id: q.id, body: q.body };
    if (!this.opts.eventsUrl) return undefined;
    const n = notificationOf(q);
    return { url: this.opts.eventsUrl, id: n.id, body: JSON.stringify(n) };
  }

  private async deliver(q: QueuedDelivery): Promise<void> {
    const { metrics, logger, store, maxAttempts } = this.opts;
    const key = { rowId: q.rowId, attempts: q.attempts };
    const n = this.outgoing(q);
    if (!n) {
      // Queued while EVENTS_WEBHOOK_URL was set, which it no longer is: nowhere to send it.
      metrics.eventsWebhookDeliveries.inc({ result: 'failed' });
      logger.warn({ type: q.type }, 'change notification dropped: EVENTS_WEBHOOK_URL is not set');
      await store.settle(this.owner, { kind: 'done', ...key });
      return;
    }
    const result = await this.send(n);
    if (this.abandon && result === 'retry') {
      await store.settle(this.owner, { kind: 'retry', ...key, dueAt: 0 });
      return;
    }
    if (result === 'delivered' || result === 'refused' || q.attempts >= maxAttempts) {
      if (result !== 'delivered') {
        metrics.eventsWebhookDeliveries.inc({ result: 'failed' });
        logger.warn({ type: q.type, eventId: n.id, attempts: q.attempts, host: hostOf(n.url) }, 'signed delivery not delivered; giving up');
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

  private async send(n: Outgoing): Promise<Outcome> {
    const ctrl = new AbortController();
    this.inflight = ctrl;
    try {
      return await postSigned(n.url, this.opts.secret, Math.floor(this.opts.clock.now() / 1000), n.id, n.body, this.opts.timeoutMs, ctrl);
    } finally {
      this.inflight = undefined;
    }
  }
}

/**
 * One signed delivery attempt: JSON POST with the signature headers and `X-Central-Event-Id`,
 * redirects not followed; 2xx delivered; a connection error, a timeout, 408, 429 or 5xx may be
 * retried; any other status is the receiver refusing.
 */
async function postSigned(
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

/** Only the host goes into log lines: a URL's path or query may carry a receiver's token. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** Exponential backoff with "equal jitter" (half the step fixed, half random, capped). */
function notificationBackoff(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}
