import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limiters } from '../http/limits.js';
import type { Stage } from '../http/routing.js';

/**
 * A slot is held this much longer than its second, so that a platform counting the calls as they
 * arrive (a few ms after they start here, with some jitter) never sees more than callsPerSecond
 * in one second either (docs/http.md §9.5).
 */
export const SLOT_MARGIN_MS = 20;

/** What `take` got: the slot to start a call with now (none or one), and the ms until another may be taken. */
export interface Taken {
  slots: number[];
  waitMs: number;
  /** When the take began (the pacer's clock): the slot's second began no earlier. */
  at: number;
}

/**
 * Per-client `callsPerSecond` (docs/http.md §9.5) through rate-limiter-flexible, made by the
 * service's one limiter factory (src/http/limits.ts, `Stores.limiters`; on PostgreSQL the shared
 * `rate_limits` table makes the limit hold across instances, docs/http.md §11).
 *
 * A client with a whole callsPerSecond `n` has `n` start slots; each slot is a limiter key of one
 * point per second (plus SLOT_MARGIN_MS), and each call start takes one slot. A slot is used at
 * most once in any second, so no rolling second ever holds more than `n` starts, whichever
 * instance took them; and a slot taken late does not delay the others, so a client whose slots
 * free while the scheduler is busy elsewhere still makes `n` calls a second. A fractional rate has
 * one slot of 1/cps seconds (0.5: one call every 2 s).
 *
 * Starts are also kept half a nominal interval apart (1/(2·cps) s) by this instance, so a client's
 * calls are spread over its second rather than sent together: a call that reaches the platform
 * late then pushes one other call into its second, not a whole burst.
 *
 * Which slot frees when is remembered here only as a hint (the limiter decides): a client none of
 * whose slots can be free yet is not asked about, so a scheduler tick costs no limiter call for it.
 */
export class CallPacer {
  private readonly limiters = new Map<number, RateLimiterAbstract>();
  /** `${stage}:${clientID}` → for each slot, when it may be free again (epoch ms, a hint). */
  private readonly freeAt = new Map<string, number[]>();
  /** `${stage}:${clientID}` → when this instance may start the client's next call (the half-interval spacing). */
  private readonly nextStart = new Map<string, number>();
  /** `${stage}:${clientID}:${slot}` of the slots whose call has not reached the platform yet (`sent`). */
  private readonly outstanding = new Set<string>();

  constructor(
    private readonly make: Limiters,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ms until one of this client's slots may be free (0: ask now). */
  readyIn(stage: Stage, clientID: string): number {
    const key = `${stage}:${clientID}`;
    const hints = this.freeAt.get(key);
    const at = Math.max(hints ? Math.min(...hints) : 0, this.nextStart.get(key) ?? 0);
    return Math.max(0, at - this.now());
  }

  /** Take a slot for one call start now, if one is free and the spacing allows it. */
  async take(stage: Stage, clientID: string, callsPerSecond: number): Promise<Taken> {
    const { count, durationMs } = shape(callsPerSecond);
    const key = `${stage}:${clientID}`;
    const now = this.now();
    const spacedUntil = this.nextStart.get(key) ?? 0;
    if (spacedUntil > now) return { slots: [], waitMs: spacedUntil - now, at: now };
    let hints = this.freeAt.get(key);
    if (!hints || hints.length !== count) {
      hints = new Array<number>(count).fill(0);
      this.freeAt.set(key, hints);
    }
    const limiter = this.limiter(callsPerSecond);
    // The slots that may be free, the longest free first; another instance may hold one already.
    const ready = hints
      .map((at, slot) => ({ at, slot }))
      .filter((h) => h.at <= now && !this.outstanding.has(`${key}:${h.slot}`))
      .sort((a, b) => a.at - b.at)
      .map((h) => h.slot);
    for (const slot of ready) {
      try {
        await limiter.consume(`${key}:${slot}`);
        hints[slot] = now + durationMs;
        // Not taken here again until its call has reached the platform (`sent`).
        this.outstanding.add(`${key}:${slot}`);
        this.nextStart.set(key, now + Math.floor(500 / callsPerSecond));
        return { slots: [slot], waitMs: Math.max(1, this.readyIn(stage, clientID)), at: now };
      } catch (e) {
        // Another instance (or an earlier turn) holds it: remember until when.
        if (!(e instanceof RateLimiterRes)) throw e;
        hints[slot] = now + Math.max(1, e.msBeforeNext);
      }
    }
    // A slot free but for its call still on the way: asked again shortly.
    const soonest = hints.some((at) => at <= now) ? SLOT_MARGIN_MS : Math.min(...hints) - now;
    return { slots: [], waitMs: Math.max(1, soonest), at: now };
  }

  /**
   * The platform answered the call started with `slot` (or the send failed: it may still have
   * arrived). The call reached the platform at the latest now, and the slot's second began no
   * earlier than the take (`takenAt`), so it ends at least SLOT_MARGIN_MS past a second after the
   * call's arrival only when now is within SLOT_MARGIN_MS of the take. Later than that (the
   * limiter's answer waited for a pooled connection, the event loop stalled before the request
   * left, the platform was slow), the slot's second starts again now: its next call, on any
   * instance, reaches the platform more than a second after this one (docs/http.md §9.5).
   */
  async sent(stage: Stage, clientID: string, callsPerSecond: number, slot: number, takenAt: number): Promise<void> {
    const key = `${stage}:${clientID}`;
    const now = this.now();
    try {
      if (now - takenAt <= SLOT_MARGIN_MS) return;
      // The slot's second starts again now, for this instance (its hint) and every other (the limiter's block of its key).
      const { durationMs } = shape(callsPerSecond);
      const hints = this.freeAt.get(key);
      if (hints && slot < hints.length) hints[slot] = Math.max(hints[slot]!, now + durationMs);
      await this.limiter(callsPerSecond).block(`${key}:${slot}`, durationMs / 1000);
    } finally {
      this.outstanding.delete(`${key}:${slot}`);
    }
  }

  /**
   * Slots taken but not used (the call was not sent): free them again, no call started with them.
   * The slot's key is deleted rather than given its point back, so the next take opens a fresh
   * second from its own moment: a point given back would keep the window of the unused take, and
   * the call started with it could share a second with the slot's next start (docs/http.md §9.5).
   */
  async giveBack(stage: Stage, clientID: string, callsPerSecond: number, slots: number[]): Promise<void> {
    const key = `${stage}:${clientID}`;
    const limiter = this.limiter(callsPerSecond);
    const hints = this.freeAt.get(key);
    await Promise.all(
      slots.map(async (slot) => {
        await limiter.delete(`${key}:${slot}`);
        if (hints) hints[slot] = 0;
        this.outstanding.delete(`${key}:${slot}`);
      }),
    );
    // No call started: the spacing does not hold the next one back either.
    if (slots.length > 0) this.nextStart.delete(key);
  }

  private limiter(callsPerSecond: number): RateLimiterAbstract {
    let l = this.limiters.get(callsPerSecond);
    if (!l) {
      l = this.make({ name: `outboundSlots:${callsPerSecond}`, points: 1, durationSeconds: shape(callsPerSecond).durationMs / 1000 });
      this.limiters.set(callsPerSecond, l);
    }
    return l;
  }
}

/** How many start slots a client has and how long each is held after a start. */
function shape(callsPerSecond: number): { count: number; durationMs: number } {
  const count = Number.isInteger(callsPerSecond) ? callsPerSecond : 1;
  return { count, durationMs: Math.ceil((count / callsPerSecond) * 1000) + SLOT_MARGIN_MS };
}
