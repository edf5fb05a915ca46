import { randomUUID } from 'node:crypto';
import { notificationBackoff, postSigned } from '../breaks/notifier.js';
import type { Clock } from '../clock.js';
import { iso } from '../clock.js';
import type { Stage } from '../http/routing.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallOutcome } from './dialer.js';
import type { ContactStatus, OutboundRequest, RequestState } from './outbound.store.js';

/**
 * createOutbound's `statusCallbackUrl` (docs/http.md §9): each contact's final outcome, then the
 * request's completion, POSTed as JSON with the change notifications' own delivery code
 * (`postSigned` and `notificationBackoff` of src/breaks/notifier.ts: signed with
 * EVENTS_WEBHOOK_SECRET, `X-Central-Event-Id` kept across retries, 408/429/5xx and connection
 * errors retried with backoff, other 4xx refused). A contact's notification comes from the
 * instance that saw it end; the completion from the one instance that marked the request
 * completed in the store. The queue is in memory, in order (at-least-once per process): what is
 * still queued when the service stops after `drainMs` is logged and dropped.
 */
export interface ContactEnded {
  number: string;
  status: ContactStatus;
  outcome: CallOutcome | null;
  durationSeconds: number | null;
}

interface Queued {
  url: string;
  id: string;
  body: string;
  attempts: number;
}

export interface CallbackOptions {
  secret: string;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  drainMs?: number;
  maxQueue?: number;
}

const DEFAULTS = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000, timeoutMs: 5_000, drainMs: 2_000, maxQueue: 10_000 };

export class OutboundCallbacks {
  private readonly opts: Required<CallbackOptions>;
  private readonly queue: Queued[] = [];
  private sending: Promise<void> | undefined;
  private stopping = false;
  private abandon = false;
  private inflight: AbortController | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(options: CallbackOptions) {
    this.opts = { ...DEFAULTS, ...options };
  }

  contactEnded(stage: Stage, request: Pick<OutboundRequest, 'reqID' | 'statusCallbackUrl'>, contact: ContactEnded): void {
    if (!request.statusCallbackUrl) return;
    this.enqueue(request.statusCallbackUrl, { type: 'outbound.contact', stage, obdReqID: request.reqID, ...contact });
  }

  completed({ request, contacts }: RequestState): void {
    if (!request.statusCallbackUrl) return;
    this.enqueue(request.statusCallbackUrl, {
      type: 'outbound.completed',
      stage: request.stage,
      obdReqID: request.reqID,
      status: request.cancelledAt !== null ? 'cancelled' : 'done',
      contacts: contacts.map((c) => ({ number: c.number, status: c.status, outcome: c.outcome, durationSeconds: c.durationSeconds })),
    });
  }

  /** Keep delivering for up to `drainMs`, then give up on what is left (logged). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    if (this.sending) {
      const t = setTimeout(() => {
        this.abandon = true;
        this.inflight?.abort();
        this.wakeUp?.();
      }, this.opts.drainMs);
      await this.sending;
      clearTimeout(t);
    }
    if (this.queue.length > 0) {
      this.opts.logger.warn({ undelivered: this.queue.length }, 'outbound status callbacks not delivered before shutdown');
      this.queue.length = 0;
    }
  }

  private enqueue(url: string, payload: Record<string, unknown>): void {
    if (this.stopping) return;
    if (this.queue.length >= this.opts.maxQueue) {
      this.queue.shift();
      this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'dropped' });
      this.opts.logger.warn({ queued: this.queue.length }, 'outbound status callback queue full; dropped the oldest');
    }
    const id = randomUUID();
    this.queue.push({ url, id, body: JSON.stringify({ id, ...payload, at: iso(this.opts.clock.now()) }), attempts: 0 });
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.abandon) {
      const n = this.queue[0]!;
      n.attempts += 1;
      const ctrl = new AbortController();
      this.inflight = ctrl;
      const result = await postSigned(n.url, this.opts.secret, Math.floor(this.opts.clock.now() / 1000), n.id, n.body, this.opts.timeoutMs, ctrl);
      this.inflight = undefined;
      if (this.abandon) return;
      if (result === 'delivered' || result === 'refused' || n.attempts >= this.opts.maxAttempts) {
        this.queue.shift();
        this.opts.metrics.eventsWebhookDeliveries.inc({ result: result === 'delivered' ? 'delivered' : 'failed' });
        if (result !== 'delivered') this.opts.logger.warn({ eventId: n.id, attempts: n.attempts, host: hostOf(n.url) }, 'outbound status callback not delivered; giving up');
        continue;
      }
      this.opts.metrics.eventsWebhookDeliveries.inc({ result: 'retry' });
      await this.sleep(notificationBackoff(n.attempts, this.opts.baseDelayMs, this.opts.maxDelayMs));
    }
  }

  private sleep(ms: number): Promise<void> {
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
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
