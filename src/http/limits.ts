import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PgPool } from '../db/pg.js';
import { rateLimited, type AppError } from './errors.js';

/**
 * The one place rate limiters are made (docs/http.md §1.4, §7.4, §11). Every limit of the service
 * is made by the `Limiters` factory of its stores (`Stores.limiters`), so the store behind all of
 * them is chosen here and nowhere else: memory on SQLite (one process per file), the shared
 * `rate_limits` table on PostgreSQL, so the per-IP, per-agent, per-token and per-client limits
 * hold across instances. `name` keeps the counters of different limits apart in the shared table.
 */
export interface LimiterSpec {
  /** Unique per limit: `perIp`, `pauseChanges`, `shortUrlCreates`, `shortUrlBadTokens`, `shortUrlMisses`, `outboundSlots:<cps>`. */
  name: string;
  /** Allowed events per window. */
  points: number;
  /** Window in seconds. */
  durationSeconds: number;
}

/** Makes one limiter; callers only see RateLimiterAbstract (`consume`, and `get` for the short-URL wrong-token check). */
export type Limiters = (spec: LimiterSpec) => RateLimiterAbstract;

/** Limiters counting in this process's memory (SQLite mode, and unit tests). */
export const memoryLimiters: Limiters = (spec) =>
  new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds });

/**
 * Limiters counting in the `rate_limits` table (migrations-pg/900_rate_limits.sql, the shape
 * RateLimiterPostgres expects) through the app's pool, shared by every instance on the database.
 * docs/http.md §11: if the database fails, the limiter falls back to counting in memory (the
 * insurance limiter) rather than failing the request, so a store error never becomes a 500.
 */
export function pgLimiters(pool: PgPool): Limiters {
  return (spec) => {
    // The table keeps expiry in whole milliseconds (BIGINT); round a fractional window (the pacer's 1/cps) up.
    const duration = Math.ceil(spec.durationSeconds * 1000) / 1000;
    return new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: spec.name,
      points: spec.points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration }),
    });
  };
}

/** Turn a rate-limiter-flexible rejection into RATE_LIMITED with Retry-After; rethrow anything else. */
export function rejection(r: unknown, message?: string): AppError {
  if (r instanceof RateLimiterRes) return rateLimited(r.msBeforeNext / 1000, message);
  throw r;
}
