import { timingSafeEqual, createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { LruCache } from '../lruCache.js';
import { AppError } from './errors.js';
import { rejection, type Limiters } from './limits.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Role, Sessions } from '../admin/session.js';

/**
 * Who is calling (docs/http.md §1.4, §6, §7.2). `clientOf()` is the one decision every guard
 * uses: the allowlist, HTTPS-only, the admin rule and every per-address limit.
 *
 * - Behind trusted proxies (TRUST_PROXY a hop count, `loopback`, or addresses/CIDRs; `true` is
 *   refused by config.ts) the client is the right-most untrusted `X-Forwarded-For` entry
 *   (Express's `req.ip`, via proxy-addr) and the scheme is the last `X-Forwarded-Proto` entry,
 *   the one the nearest trusted proxy wrote (`applyProxyRules`).
 * - A peer that is not a trusted proxy but sends `Forwarded`, `X-Forwarded-For` or `X-Real-IP`
 *   from loopback is a proxy on this host that the settings do not know: its clients are
 *   unknown, never loopback. (A trusted proxy that sends only `Forwarded`/`X-Real-IP` is judged
 *   the same way, since its client's address cannot be read.)
 * - Only a loopback socket peer without any forwarded header is `local`: the one caller the
 *   admin API serves without ADMIN_TOKEN.
 */

export interface Client {
  /** The address the allowlist judges; undefined for an unknown client. */
  address: string | undefined;
  /** Key of per-address limits: the address, else the socket peer's. */
  limitKey: string;
  /** The client's address is loopback (plain HTTP is fine for it). */
  loopback: boolean;
  /** A loopback socket peer with no forwarded header. */
  local: boolean;
  /** Why the client is unknown, when it is. */
  unknownBecause?: 'untrusted-proxy' | 'no-x-forwarded-for';
}

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

type TrustFn = (addr: string, hop: number) => boolean;

function peerTrusted(req: Request): boolean {
  const trust = req.app.get('trust proxy fn') as TrustFn | undefined;
  const peer = req.socket.remoteAddress;
  return !!trust && !!peer && trust(peer, 0);
}

/** Where a request keeps its client once judged (a property of the request, not a WeakMap entry per request). */
const CLIENT = Symbol('client');
type Judged = { [CLIENT]?: Client };

/** Distinct socket peers whose judgement is kept, for requests without forwarded headers. */
export const PEER_CACHE_SIZE = 1024;
/** Peer address → the client it is when no forwarded header is sent (the judgement depends on nothing else). */
const directClients = new LruCache<string, Readonly<Client>>(PEER_CACHE_SIZE);
/** The last peer judged, in front of the cache: consecutive requests mostly come from one address. */
let lastPeer: string | undefined;
let lastPeerClient: Readonly<Client> | undefined;

/** The caller of this request, decided once (docs/http.md §7.2). */
export function clientOf(req: Request): Client {
  return ((req as Judged)[CLIENT] ??= judge(req));
}

function judge(req: Request): Client {
  const h = req.headers;
  const forwarded = h.forwarded !== undefined || h['x-forwarded-for'] !== undefined || h['x-real-ip'] !== undefined;
  const socketPeer = req.socket.remoteAddress;
  if (!forwarded && socketPeer !== undefined) {
    // Without forwarded headers req.ip is the socket peer: the client is a function of that address.
    if (socketPeer === lastPeer) return lastPeerClient!;
    let c = directClients.get(socketPeer);
    if (!c) {
      const loopback = isLoopback(socketPeer);
      directClients.set(socketPeer, (c = Object.freeze({ address: socketPeer, limitKey: socketPeer, loopback, local: loopback })));
    }
    lastPeer = socketPeer;
    lastPeerClient = c;
    return c;
  }
  const peer = socketPeer ?? 'unknown';
  const peerLoopback = isLoopback(peer);
  if (!forwarded) return { address: req.ip, limitKey: req.ip ?? peer, loopback: isLoopback(req.ip), local: peerLoopback };
  if (peerTrusted(req)) {
    if (req.headers['x-forwarded-for'] === undefined) {
      return { address: undefined, limitKey: peer, loopback: false, local: false, unknownBecause: 'no-x-forwarded-for' };
    }
    return { address: req.ip, limitKey: req.ip ?? peer, loopback: isLoopback(req.ip), local: false };
  }
  if (peerLoopback) return { address: undefined, limitKey: peer, loopback: false, local: false, unknownBecause: 'untrusted-proxy' };
  // A remote peer's forwarded headers are simply not believed: it is judged by its own address.
  return { address: req.ip, limitKey: req.ip ?? peer, loopback: isLoopback(req.ip), local: false };
}

const UNKNOWN_MESSAGE: Record<NonNullable<Client['unknownBecause']>, string> = {
  'untrusted-proxy':
    'this request came through a proxy on this host (Forwarded/X-Forwarded-For/X-Real-IP) but TRUST_PROXY does not trust it; set TRUST_PROXY=loopback (or the proxy address) so the client address is judged',
  'no-x-forwarded-for': 'the trusted proxy sent no X-Forwarded-For, so the client address is unknown; configure the proxy (TRUST_PROXY) to send X-Forwarded-For',
};

/**
 * Express settings and request getters for proxies: `req.protocol` (and so `req.secure`) is the
 * last `X-Forwarded-Proto` entry when the socket peer is a trusted proxy, else the socket's own.
 * Express itself takes the first entry, which an appending proxy leaves to the client.
 */
export function applyProxyRules(app: Express, config: Config): void {
  app.set('trust proxy', config.TRUST_PROXY);
  Object.defineProperty(app.request, 'protocol', {
    configurable: true,
    enumerable: true,
    get(this: Request): string {
      const own = (this.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
      if (!peerTrusted(this)) return own;
      const header = this.headers['x-forwarded-proto'];
      const text = Array.isArray(header) ? header.join(',') : header;
      if (!text) return own;
      const last = text.split(',').at(-1)!.trim().toLowerCase();
      return last === 'https' || last === 'http' ? last : own;
    },
  });
}

export function ipAllowed(ip: string | undefined, list: Config['ALLOWED_IPS']): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  return list.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

/** `path` is `prefix` or below it (`/admin`, `/admin/…`; not `/adminx`), as Express matches a mount path. */
export function underAny(prefixes: readonly string[]): (path: string) => boolean {
  const below = prefixes.map((p) => `${p}/`);
  return (path) => {
    for (let i = 0; i < prefixes.length; i++) if (path === prefixes[i] || path.startsWith(below[i]!)) return true;
    return false;
  };
}

export interface AccessGuardOptions {
  config: Config;
  logger: Logger;
  /** The service's limiter factory (src/http/limits.ts), for the per-IP limit. */
  limiters: Limiters;
  /** Paths behind the allowlist and the per-IP limit (docs/http.md §1.4). */
  guardedPrefixes: readonly string[];
}

/**
 * Every request's access rules after Host/Origin and health (docs/http.md §1.4, §7.2), in this
 * order, as one middleware: one `warn` line the first time a proxy on this host is not trusted;
 * the allowlist on guarded paths (first, so a caller behind an untrusted proxy hears about
 * TRUST_PROXY); HTTPS-only on every path (plain HTTP only for loopback callers, ALLOW_HTTP=true,
 * or a trusted proxy that terminated TLS); the per-IP limit on guarded paths when
 * RATE_LIMIT_PER_IP > 0, before any body is read.
 */
export function accessGuards({ config, logger, limiters, guardedPrefixes }: AccessGuardOptions): RequestHandler {
  const guarded = underAny(guardedPrefixes);
  let warned = false;
  // Address → allowed, so each distinct address is parsed and matched against the list once.
  const judged = new LruCache<string, boolean>(PEER_CACHE_SIZE);
  const allowed = (address: string | undefined): boolean => {
    if (address === undefined) return false;
    let ok = judged.get(address);
    if (ok === undefined) judged.set(address, (ok = ipAllowed(address, config.ALLOWED_IPS)));
    return ok;
  };
  const perIp = config.RATE_LIMIT_PER_IP > 0 ? limiters({ name: 'perIp', points: config.RATE_LIMIT_PER_IP, durationSeconds: 1 }) : undefined;

  return (req: Request, _res: Response, next: NextFunction): void => {
    const client = clientOf(req);
    if (client.unknownBecause && !warned) {
      warned = true;
      logger.warn({ unknownBecause: client.unknownBecause }, `requests carry forwarded headers that are not believed: ${UNKNOWN_MESSAGE[client.unknownBecause]}`);
    }
    const isGuarded = guarded(req.path);
    if (isGuarded) {
      if (client.unknownBecause) return next(new AppError('FORBIDDEN_IP', UNKNOWN_MESSAGE[client.unknownBecause]));
      if (!allowed(client.address)) return next(new AppError('FORBIDDEN_IP', 'this address is not allowed'));
    }
    if (!config.ALLOW_HTTP && !client.loopback && !req.secure) {
      const hint = client.unknownBecause === 'untrusted-proxy' ? '; behind a reverse proxy, set TRUST_PROXY so its X-Forwarded-Proto is believed' : '';
      return next(new AppError('HTTPS_REQUIRED', `use HTTPS${hint}`));
    }
    if (!isGuarded || !perIp) return next();
    perIp.consume(client.limitKey).then(
      () => next(),
      (r: unknown) => next(rejection(r)),
    );
  };
}

/** Constant-time comparison of secrets of any length (hash first so lengths do not leak). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Admin API: when ADMIN_TOKEN is set, a bearer token or a session cookie (docs/http.md §8.2);
 * ADMIN_TOKEN grants everything, BOARD_TOKEN only GET/HEAD. Without ADMIN_TOKEN, local callers only (docs/http.md §7.2).
 */
export function adminGuard(config: Config, sessions: Sessions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.locals.loginEnabled = config.ADMIN_TOKEN !== undefined;
    if (config.ADMIN_TOKEN === undefined) {
      if (clientOf(req).local) return next();
      return next(
        new AppError('UNAUTHORIZED', 'without ADMIN_TOKEN the admin API serves only callers on this host that do not come through a proxy; set ADMIN_TOKEN'),
      );
    }
    const decide = (role: Role | undefined): void => {
      if (role === 'admin') return next();
      if (role === 'board') {
        if (READ_METHODS.has(req.method)) return next();
        return next(new AppError('FORBIDDEN', 'this login is read-only (BOARD_TOKEN); changes need ADMIN_TOKEN'));
      }
      next(new AppError('UNAUTHORIZED', 'a valid Authorization: Bearer token is required', undefined, {}, { 'WWW-Authenticate': 'Bearer' }));
    };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m) return decide(sessions.roleOfToken(m[1]!));
    // A cookie ended by logout counts as no cookie (docs/http.md §8.2).
    sessions.roleOf(req).then(decide, next);
  };
}
