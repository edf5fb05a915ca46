import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited, type AppError } from './errors.js';

/**
 * The one place rate limiters are made (docs/http.md §1.4, §7.4). Every limit of the service is
 * created through `createLimiter`, so the store behind all of them (memory today; a shared
 * PostgreSQL store for several instances, docs/http.md §11) is chosen here and nowhere else.
 * `name` keeps the counters of different limits apart in a shared store. For the `pg` engineer:
 * swap `RateLimiterMemory` for the PostgreSQL store here (the callers only see RateLimiterAbstract:
 * `consume`, and `get` for the short-URL wrong-token check).
 */
export interface LimiterSpec {
  /** Unique per limit: `perIp`, `pauseChanges`, `shortUrlCreates`, `shortUrlBadTokens`, `shortUrlMisses`. */
  name: string;
  /** Allowed events per window. */
  points: number;
  /** Window in seconds. */
  durationSeconds: number;
}

export function createLimiter(spec: LimiterSpec): RateLimiterAbstract {
  return new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds });
}

/** Turn a rate-limiter-flexible rejection into RATE_LIMITED with Retry-After; rethrow anything else. */
export function rejection(r: unknown, message?: string): AppError {
  if (r instanceof RateLimiterRes) return rateLimited(r.msBeforeNext / 1000, message);
  throw r;
}
