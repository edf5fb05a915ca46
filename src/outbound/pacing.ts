import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limiters } from '../http/limits.js';
import type { Stage } from '../http/routing.js';

/**
 * Per-client `callsPerSecond` (docs/http.md §9) through rate-limiter-flexible, made by the
 * service's one limiter factory (src/http/limits.ts, `Stores.limiters`; on PostgreSQL the shared
 * `rate_limits` table makes the limit hold across instances, docs/http.md §11). Each limiter allows one call start per 1/cps seconds: a window
 * starts at the first call after the previous one ran out, so consecutive starts are at least
 * 1/cps apart and no sliding second ever holds more than cps of them.
 */
export class CallPacer {
  private readonly limiters = new Map<number, RateLimiterAbstract>();

  constructor(private readonly make: Limiters) {}

  /** Take one call start for this client: 0 when it may start now, else the ms until one may. */
  async take(stage: Stage, clientID: string, callsPerSecond: number): Promise<number> {
    try {
      await this.limiter(callsPerSecond).consume(`${stage}:${clientID}`);
      return 0;
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(1, e.msBeforeNext);
      throw e;
    }
  }

  private limiter(callsPerSecond: number): RateLimiterAbstract {
    let l = this.limiters.get(callsPerSecond);
    if (!l) {
      l = this.make({ name: `outboundCalls:${callsPerSecond}`, points: 1, durationSeconds: 1 / callsPerSecond });
      this.limiters.set(callsPerSecond, l);
    }
    return l;
  }
}
