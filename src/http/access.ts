import { timingSafeEqual, createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { NextFunction, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, rateLimited } from './errors.js';
import type { Config } from '../config.js';

/** Access rules of docs/http.md §1.4 and the admin rule of section 6. */

function parseIp(ip: string | undefined): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ip) return undefined;
  try {
    return ipaddr.process(ip); // turns ::ffff:1.2.3.4 into 1.2.3.4
  } catch {
    return undefined;
  }
}

export function isLoopback(ip: string | undefined): boolean {
  return parseIp(ip)?.range() === 'loopback';
}

export function ipAllowed(ip: string | undefined, list: Config['ALLOWED_IPS']): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  return list.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

export function allowlist(config: Config) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (ipAllowed(req.ip, config.ALLOWED_IPS)) return next();
    next(new AppError('FORBIDDEN_IP', 'this address is not allowed'));
  };
}

/** Plain HTTP is only for loopback callers, ALLOW_HTTP=true, or a trusted proxy that terminated TLS. */
export function httpsOnly(config: Config) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (config.ALLOW_HTTP || req.secure || isLoopback(req.ip)) return next();
    next(new AppError('HTTPS_REQUIRED', 'use HTTPS'));
  };
}

/** Per-IP limit over guarded routes; runs before the body is read. */
export function perIpRateLimit(config: Config) {
  if (config.RATE_LIMIT_PER_IP === 0) return (_req: Request, _res: Response, next: NextFunction) => next();
  const limiter = new RateLimiterMemory({ points: config.RATE_LIMIT_PER_IP, duration: 1 });
  return (req: Request, _res: Response, next: NextFunction): void => {
    limiter.consume(req.ip ?? 'unknown').then(
      () => next(),
      (r: unknown) => next(rejection(r)),
    );
  };
}

/** Turn a rate-limiter-flexible rejection into RATE_LIMITED with Retry-After. */
export function rejection(r: unknown, message?: string): AppError {
  if (r instanceof RateLimiterRes) return rateLimited(r.msBeforeNext / 1000, message);
  throw r;
}

/** Constant-time comparison of secrets of any length (hash first so lengths do not leak). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Admin API: a bearer token when ADMIN_TOKEN is set, otherwise loopback callers only. */
export function adminGuard(config: Config) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (config.ADMIN_TOKEN === undefined) {
      return isLoopback(req.ip) ? next() : next(new AppError('UNAUTHORIZED', 'set ADMIN_TOKEN to use the admin API from another host'));
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m && secretsEqual(m[1]!, config.ADMIN_TOKEN)) return next();
    next(new AppError('UNAUTHORIZED', 'a valid Authorization: Bearer token is required', undefined, {}, { 'WWW-Authenticate': 'Bearer' }));
  };
}
