import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { AppDeps } from '../deps.js';
import type { Stage } from '../http/routing.js';
import type { CallingWindow } from './callingWindow.js';
import type { CallOutcome, Dialer, DialOutcome } from './dialer.js';
import type { ClaimedContact, ClientSettings, Completion, DueClient, OutboundRequest, OutboundStore, PollDue } from './outbound.store.js';
import { LruCache } from '../lruCache.js';
import type { CallPacer } from './pacing.js';

export interface SchedulerOptions {
  /** How often to look for due contacts when idle (real time; due-ness is the injected clock's). */
  pollMs?: number;
  /** Dispatches in flight at most. */
  maxInFlight?: number;
  /** Extra lease time beyond one dialer attempt's timeout before a claim counts as lost. */
  leaseGraceMs?: number;
  /** How long stop() waits for dialers to answer before it interrupts them (shutdown must end within 10 s). */
  stopWaitMs?: number;
  random?: () => number;
  /** Per-client callsPerSecond, made from `Stores.limiters` (shared across instances on PostgreSQL, docs/http.md §11). */
  pacer?: CallPacer;
  /**
   * Ready clients claimed for in one store call (default CLIENTS_PER_TURN), the event loop getting
   * a turn between calls. More on PostgreSQL, where a claim's work is the server's rather than the
   * event loop's and each call is a transaction of its own: the fewer calls a pass makes, the
   * sooner it comes round to a client again (docs/http.md §9.5).
   */
  clientsPerClaim?: number;
  /**
   * Called after contacts ended or requests completed were recorded: the store wrote their
   * statusCallbackUrl deliveries to the outbox in the same transactions (docs/http.md §9.6).
   * Only when EVENTS_WEBHOOK_SECRET is set (no statusCallbackUrl exists otherwise).
   */
  onEnded?: () => void;
}

/** Records an outcome read back by polling (a Studio Execution that ended). */
export type PolledOutcome = (stage: Stage, callbackKey: string, outcome: CallOutcome) => Promise<void>;

/** How often a Studio Execution is read back (injected clock), and how long a call may await its outcome. */
export const POLL_EVERY_MS = 5_000;
export const AWAIT_OUTCOME_MS = 4 * 60 * 60_000;
const POLLS_PER_TICK = 20;
/**
 * A paced drain claims for this many clients at once and then lets the event loop answer requests
 * (status callbacks, /healthz): on SQLite every store call resolves without I/O, so a tick that
 * only awaited would hold the loop for every client due (issue 13; docs/http.md §9.5).
 */
export const CLIENTS_PER_TURN = 10;
/** Requests kept read for their contacts' dials (the scheduler's LRU). */
const REQUESTS_KEPT = 1_000;
/** Wake-ups (a call ended, a request created) closer together than this share one tick. */
const MIN_WAKE_GAP_MS = 10;

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/** Exponential backoff with jitter: about base·2^(n-1), drawn from its upper half, capped. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** A dispatch outcome that ends its contact (no outcome awaited from the platform). */
const ends = (d: Completion) => d.kind === 'failed' || d.kind === 'recorded' || (d.kind === 'dispatched' && !d.awaits);

/**
 * The durable scheduler. Due contacts are claimed in one store call under a lease
 * (owner + lease end), each claim counting an attempt; outcomes are written back only while the
 * claim is still ours. A process that dies mid-dispatch leaves the contact 'scheduled' with a
 * lease that runs out, so it is claimed again — with the same idempotency key — only when the
 * dialer never confirmed it. Retries after 5xx/timeouts are rows with a later `due_at`, so a
 * backoff survives a restart too.
 *
 * Pacing (docs/http.md §9): on `prod` with a platform dialer, due contacts are claimed per client,
 * at most its maxConcurrent minus its calls in flight (the store checks it inside the claim) and
 * only as many as its callsPerSecond limiter allows right now; the calling window holds `prod`
 * back while closed. The `test` stage and the recording dialer place no calls and are not paced.
 */
export class OutboundScheduler {
  private readonly owner = randomUUID();
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly stopWaitMs: number;
  private readonly interrupt = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly polling = new Set<Promise<void>>();
  private readonly pacer: CallPacer;
  private readonly pacedProd: boolean;
  private readonly onEnded: (() => void) | undefined;
  private readonly clientsPerClaim: number;
  /**
   * Requests read for their contacts' dials, kept across ticks: what a dial uses of a request
   * (its ids, flow and category) never changes, and pausing or cancelling is checked by the
   * claim itself, so a request is read once rather than once per contact.
   */
  private readonly requests = new LruCache<string, Promise<OutboundRequest | undefined>>(REQUESTS_KEPT);
  private pending: Completion[] = [];
  private flushQueued = false;
  /** The outcome write in progress; writes run one after another. */
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** A claim is in progress (the store is async): a wake-up meanwhile ticks again right after. */
  private ticking = false;
  private tickAgain = false;
  /** When the last tick started (performance.now()), to space wake-ups. */
  private lastTickAt = -Infinity;
  /** Paced passes so far (where the next one starts among the clients ready). */
  private passes = 0;
  /** Clients with a claimed contact waiting here for a start slot: not claimed for again until it has one. */
  private readonly awaitingSlot = new Set<string>();

  constructor(
    private readonly deps: Pick<AppDeps, 'clock' | 'config' | 'logger' | 'metrics'>,
    private readonly store: OutboundStore,
    private readonly dialers: Record<Stage, Dialer>,
    private readonly window: CallingWindow | undefined,
    opts: SchedulerOptions & { pacer: CallPacer },
    private readonly polled?: PolledOutcome,
  ) {
    this.pacer = opts.pacer;
    this.onEnded = opts.onEnded;
    this.clientsPerClaim = opts.clientsPerClaim ?? CLIENTS_PER_TURN;
    this.pacedProd = deps.config.DIALER !== 'record';
    this.pollMs = opts.pollMs ?? 200;
    this.maxInFlight = opts.maxInFlight ?? 256;
    this.leaseMs = deps.config.DIALER_TIMEOUT_MS + (opts.leaseGraceMs ?? 2_000);
    this.random = opts.random ?? Math.random;
    this.stopWaitMs = opts.stopWaitMs ?? 5_000;
    // Every dispatch in flight listens for the interruption.
    setMaxListeners(0, this.interrupt.signal);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  /** Look for due contacts now (after a request was scheduled, or a dispatch finished). */
  wake(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    // A status callback per call ended wakes the scheduler: at hundreds a second they share ticks.
    const gap = Math.max(0, this.lastTickAt + MIN_WAKE_GAP_MS - performance.now());
    this.timer = setTimeout(() => void this.tick(), gap);
  }

  /**
   * Stop claiming, wait for the dispatches in flight and record their outcomes. A dialer that has
   * not answered within `stopWaitMs` is interrupted: that attempt counts as unconfirmed and is
   * retried, with the same idempotency key, after the next start.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // A tick in progress claims nothing more once it sees `running` false; wait for it first, so
    // every dispatch it started is in `inFlight` and is waited for and recorded below.
    while (this.ticking) await new Promise((r) => setImmediate(r));
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stopWaitMs)));
      await Promise.race([Promise.allSettled([...this.inFlight]), waited]);
      clearTimeout(timer);
      this.interrupt.abort();
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    while (this.polling.size > 0) await Promise.allSettled([...this.polling]);
    await this.flush();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    this.lastTickAt = performance.now();
    if (this.pending.length > 0) void this.flush();
    let again = false;
    let nextMs = this.pollMs;
    try {
      const now = this.deps.clock.now();
      if ((await this.store.expire(now)) > 0) this.onEnded?.();
      let capacity = this.maxInFlight - this.inFlight.size;
      const prodOpen = !this.window || this.window.isOpen(now);
      // Stages that place no calls: claim everything due, as fast as it drains.
      for (const stage of ['test', 'prod'] as const) {
        if (!this.running || capacity <= 0 || (stage === 'prod' && (this.pacedProd || !prodOpen))) continue;
        const batch = await this.store.claim(this.owner, now, now + this.leaseMs, capacity, { stage });
        for (const c of batch) this.dispatch(c, now);
        if (batch.length === capacity) again = true;
        capacity -= batch.length;
      }
      if (this.pacedProd && prodOpen && capacity > 0) {
        const waitMs = await this.claimPaced(now, capacity);
        if (waitMs !== undefined) nextMs = Math.min(nextMs, Math.max(waitMs, MIN_WAKE_GAP_MS));
      }
      if (this.polled && this.running) await this.startPolls(now);
      if (this.onEnded && (await this.store.completeRequests(now, 20)).length > 0) this.onEnded();
    } catch (e) {
      this.deps.logger.error({ errType: (e as Error)?.name, errCode: (e as { code?: string })?.code }, 'outbound claim failed');
    } finally {
      this.ticking = false;
    }
    // A full batch (or a wake-up during the claim) means more may be due: come back at once;
    // otherwise poll (sooner when a client's rate allows its next call sooner).
    again = again || this.tickAgain;
    this.tickAgain = false;
    if (this.running) this.timer = setTimeout(() => void this.tick(), again ? 0 : nextMs);
  }

  /**
   * Claim per client as its limits allow; returns the ms until a client held back by its
   * callsPerSecond may call again, if any was. A client whose next start cannot be due yet (the
   * pacer's hints) is not claimed for; the start slot itself is taken only right before the
   * platform request (`paced`). The clients ready go in groups of `clientsPerClaim`, each group's
   * claims in one store call (claimForClients), and the event loop gets a turn between groups.
   */
  private async claimPaced(now: number, capacity: number): Promise<number | undefined> {
    let waitMs: number | undefined;
    const later = (ms: number) => (waitMs = Math.min(waitMs ?? ms, ms));
    const ready: DueClient[] = [];
    for (const client of await this.store.dueClients(now, ['prod'])) {
      if (client.settings.maxConcurrent - client.inFlight <= 0 || this.awaitingSlot.has(client.clientID)) continue;
      const wait = this.pacer.readyIn('prod', client.clientID);
      if (wait > 0) later(wait);
      else ready.push(client);
    }
    // Start each pass at another client, so when capacity runs short it is not always the same
    // clients (the last in order) that wait.
    const start = ready.length ? this.passes++ % ready.length : 0;
    ready.push(...ready.splice(0, start));
    for (let i = 0; i < ready.length && capacity > 0 && this.running; i += this.clientsPerClaim) {
      // Before every group, the first too: two ticks can follow each other within one turn.
      await new Promise((r) => setImmediate(r));
      const group = ready.slice(i, i + Math.min(this.clientsPerClaim, capacity)).filter((c) => !this.awaitingSlot.has(c.clientID));
      if (group.length === 0 || !this.running) continue;
      // One contact of each client, whose call starts when it gets a start slot (`paced`); the
      // group's claims are one store call (one transaction on PostgreSQL).
      const batch = await this.store.claimForClients(this.owner, now, now + this.leaseMs, 'prod', group.map((c) => c.clientID), 1);
      const settings = new Map(group.map((c) => [c.clientID, c.settings]));
      for (const c of batch) {
        // Marked in the same turn as the claim resolves, so no later tick claims for it meanwhile.
        this.awaitingSlot.add(c.clientID);
        this.dispatch(c, now, settings.get(c.clientID));
      }
      capacity -= batch.length;
    }
    return waitMs;
  }

  /**
   * Take the client's start slot and send the platform request in the same turn (docs/http.md
   * §9.5): the slot's second starts when the call is sent, so a stall anywhere before (the claim,
   * the request read, other clients' work) cannot bunch starts at the platform. Nothing is awaited
   * between the slot's take and the dialer's request; a slot that cannot be used at once (the
   * service is stopping) is given back. While no slot is free (another instance holds them) the
   * contact waits here, at most half its lease; then it goes back unstarted and uncounted.
   */
  private async paced(c: ClaimedContact, settings: ClientSettings, send: () => Promise<DialOutcome>): Promise<DialOutcome> {
    const cps = settings.callsPerSecond;
    const giveUpAt = performance.now() + this.leaseMs / 2;
    let sending: Promise<DialOutcome> | undefined;
    try {
      for (;;) {
        if (!this.running) return { kind: 'throttled', retryAfterMs: 0, error: 'service stopping before the call started' };
        const taken = await this.pacer.take('prod', c.clientID, cps);
        if (taken.slots.length > 0) {
          if (!this.running) {
            await this.pacer.giveBack('prod', c.clientID, cps, taken.slots);
            continue;
          }
          sending = send();
          // Once the platform answered, the slot's second starts again if the call may have
          // reached it late (src/outbound/pacing.ts `sent`, docs/http.md §9.5).
          const slot = taken.slots[0]!;
          const reached = () =>
            this.pacer.sent('prod', c.clientID, cps, slot, taken.at).catch((e: unknown) => {
              this.deps.logger.warn({ errType: (e as Error)?.name }, 'outbound start slot not restarted');
            });
          sending.then(reached, reached);
          break;
        }
        if (performance.now() + taken.waitMs > giveUpAt) return { kind: 'throttled', retryAfterMs: 0, error: 'no start slot free within the lease' };
        await new Promise((r) => setTimeout(r, taken.waitMs));
      }
    } finally {
      // The client may be claimed for again (its next slot per the pacer's hints).
      this.awaitingSlot.delete(c.clientID);
      if (this.running) this.wake();
    }
    return sending;
  }

  /** Read back Studio Executions due for it, each by one instance (docs/http.md §9). */
  private async startPolls(now: number): Promise<void> {
    const due = await this.store.claimPolls(now, now + POLL_EVERY_MS, POLLS_PER_TICK);
    for (const p of due) {
      const job = this.poll(p).finally(() => this.polling.delete(job));
      this.polling.add(job);
    }
  }

  private async poll(p: PollDue): Promise<void> {
    try {
      const client = await this.store.getClient(p.stage, p.clientID);
      const target = client?.settings.targets[p.flowID];
      const dialer = this.dialers[p.stage];
      if (!target || !dialer.poll) return;
      const result = await dialer.poll(target, p.callId, this.interrupt.signal);
      if (result.kind === 'ended') await this.polled!(p.stage, p.callbackKey, result.outcome);
    } catch (e) {
      // Polled again at its next poll time.
      this.deps.logger.warn({ stage: p.stage, errType: (e as Error)?.name }, 'outbound execution poll failed');
    }
  }

  private dispatch(c: ClaimedContact, now: number, settings?: ClientSettings): void {
    this.deps.metrics.outboundDispatchLag.observe(Math.max(0, now - c.dueAt) / 1000);
    const p = this.attempt(c, settings).finally(() => {
      this.inFlight.delete(p);
      if (this.running && this.inFlight.size === this.maxInFlight - 1) this.wake();
    });
    this.inFlight.add(p);
  }

  private async attempt(c: ClaimedContact, settings: ClientSettings | undefined): Promise<void> {
    this.record(c, await this.outcome(c, settings));
  }

  private async outcome(c: ClaimedContact, settings: ClientSettings | undefined): Promise<DialOutcome> {
    let req: OutboundRequest | undefined;
    try {
      req = await this.request(c.stage, c.reqID);
    } catch (e) {
      // Not dialled, so retried like an unconfirmed dispatch.
      return { kind: 'retry', error: `request not readable: ${(e as Error)?.name ?? 'unknown'}` };
    }
    if (!req) return { kind: 'failed', error: 'request not found' };
    const base = this.deps.config.PUBLIC_BASE_URL;
    const dialer = this.dialers[c.stage];
    const send = () => dialer.dial({
        obdReqID: req.reqID,
        obdPhononUUID: req.phononUUID,
        clientID: req.clientID,
        flowID: req.flowID,
        number: c.number,
        attempt: c.attempts,
        idempotencyKey: c.idempotencyKey,
        keys: c.keys,
        category: req.category,
        target: settings?.targets[req.flowID],
        callerId: settings?.callerId ?? undefined,
        statusCallbackUrl: base ? `${base}/outbound/${c.stage}/status/${c.callbackKey}` : undefined,
      }, this.interrupt.signal);
    try {
      return await (settings ? this.paced(c, settings, send) : send());
    } catch (e) {
      return { kind: 'retry', error: `dialer error: ${(e as Error)?.name ?? 'unknown'}` };
    }
  }

  private record(c: ClaimedContact, outcome: DialOutcome): void {
    const now = this.deps.clock.now();
    const { outboundDispatches } = this.deps.metrics;
    if (outcome.kind === 'recorded' && c.stage === 'prod') {
      // Nothing was dialled: `recorded`, not `dispatched` (docs/http.md §8).
      this.pending.push({ kind: 'recorded', contact: c, at: now });
      outboundDispatches.inc({ stage: c.stage, result: 'recorded' });
    } else if (outcome.kind === 'dispatched' || outcome.kind === 'recorded') {
      const awaits = outcome.kind === 'dispatched' ? outcome.awaits : undefined;
      const callId = outcome.kind === 'dispatched' ? outcome.callId : undefined;
      this.pending.push({ kind: 'dispatched', contact: c, at: now, callId, awaits, awaitingUntil: now + AWAIT_OUTCOME_MS, pollAt: now + POLL_EVERY_MS });
      outboundDispatches.inc({ stage: c.stage, result: 'dispatched' });
    } else if (outcome.kind === 'throttled') {
      // The platform's "too many requests" is not a failed attempt: wait for its Retry-After (docs/http.md §9).
      this.pending.push({ kind: 'retry', contact: c, error: outcome.error, at: now, dueAt: now + outcome.retryAfterMs, uncounted: true });
      outboundDispatches.inc({ stage: c.stage, result: 'retry' });
    } else if (outcome.kind === 'retry' && c.attempts < this.deps.config.DIALER_MAX_ATTEMPTS) {
      this.pending.push({ kind: 'retry', contact: c, error: outcome.error, at: now, dueAt: now + backoffDelay(c.attempts, this.random) });
      outboundDispatches.inc({ stage: c.stage, result: 'retry' });
    } else {
      const error = outcome.kind === 'retry' ? `${outcome.error} (gave up after ${c.attempts} attempts)` : outcome.error;
      this.pending.push({ kind: 'failed', contact: c, error, at: now });
      outboundDispatches.inc({ stage: c.stage, result: 'failed' });
      // The request id and key identify the contact for operators; the number stays out of logs.
      this.deps.logger.warn({ stage: c.stage, obdReqID: c.reqID, idempotencyKey: c.idempotencyKey, attempts: c.attempts, error }, 'outbound contact failed');
    }
    // Outcomes that arrive together are written in one transaction, right after this turn.
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Write the outcomes gathered so far; writes run one after another, in order. */
  private flush(): Promise<void> {
    this.flushQueued = false;
    const done = this.pending;
    if (done.length === 0) return this.flushing;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.complete(this.owner, done);
        if (this.onEnded && done.some(ends)) this.onEnded();
      } catch (e) {
        // Kept and written again on the next tick (the contacts stay leased to this scheduler, so
        // it never dials them twice); after a crash they are claimed again with the same keys.
        this.pending = done.concat(this.pending);
        this.deps.logger.error({ errType: (e as Error)?.name, errCode: (e as { code?: string })?.code }, 'outbound outcome not recorded');
      }
    });
    return this.flushing;
  }

  private request(stage: Stage, reqID: string): Promise<OutboundRequest | undefined> {
    const key = `${stage}\u0000${reqID}`;
    let req = this.requests.get(key);
    if (!req) {
      req = this.store.getRequest(stage, reqID);
      this.requests.set(key, req);
      // Not kept when the read failed or found nothing: the next contact reads it again.
      const read = req;
      read.then(
        (r) => r === undefined && this.requests.delete(key),
        () => this.requests.delete(key),
      );
    }
    return req;
  }
}
