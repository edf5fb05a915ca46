import type { Request } from 'express';
import type { Config } from '../config.js';
import { LruCache } from '../lruCache.js';
import { AppError } from './errors.js';

/**
 * Host, origin and browser rules (docs/http.md §7.3), checked in app.ts's first layer:
 * 1. `Host` must name this service (421 MISDIRECTED_REQUEST otherwise), so a DNS-rebinding page
 *    on another name never reaches a route. `/healthz` is exempt for load balancers.
 * 2. A state-changing request to `/admin/*`, `/mapping/*` or the central webhook with an `Origin`
 *    other than the service's own, or `Sec-Fetch-Site: cross-site`, is a page on another site
 *    (CSRF): 403 FORBIDDEN before any body is read.
 * 3. `/admin/*` bodies are JSON or CSV only (415 otherwise), so no HTML form on another site can
 *    post to it as a "simple" request; `POST /admin/login` keeps its HTML form (docs/http.md §8).
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CSRF_PREFIXES = ['/admin', '/mapping', '/centraloutboundwebhook-v1'];
const EXEMPT_HOST_PATHS = new Set(['/healthz']);
const LOGIN_PATH = '/admin/login';

/** `Example.COM.:8080` → `example.com`; `[::1]:3000` → `[::1]`; undefined when it is no host. */
export function hostName(hostHeader: string): string | undefined {
  try {
    const u = new URL(`http://${hostHeader.trim()}`);
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) return undefined;
    return u.hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

/** Every host name this service answers to (docs/http.md §7.3). */
export function serviceHosts(config: Config): Set<string> {
  const hosts = new Set(['localhost', '127.0.0.1', '[::1]']);
  const add = (h: string | undefined) => {
    const name = h && hostName(h.includes(':') && !h.startsWith('[') && h.split(':').length > 2 ? `[${h}]` : h);
    if (name) hosts.add(name);
  };
  for (const base of [config.PUBLIC_BASE_URL, config.SHORTURL_BASE_URL, ...config.SHORTURL_TOKENS.values()]) {
    if (base) add(new URL(base).host);
  }
  add(config.HOST);
  for (const h of config.ALLOWED_HOSTS) add(h);
  return hosts;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function origin(url: string): string {
  return new URL(url).origin.toLowerCase();
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length.trim() !== '0');
}

const ADMIN_BODY = /^(application\/json|application\/[a-z0-9.+-]+\+json|text\/csv)\s*(;|$)/i;

/** Distinct Host header values whose host name is kept (a client sends one value again and again). */
export const HOST_CACHE_SIZE = 256;

/** The check of a request's Host, Origin and admin body type: the refusal, or undefined when it may go on. */
export function hostAndOrigin(config: Config): (req: Request, path: string) => AppError | undefined {
  const hosts = serviceHosts(config);
  // Host header → its host name (null: no host), so `new URL` parses each distinct value once;
  // the last one is kept in front of the cache, since a client sends the same value again and again.
  const names = new LruCache<string, string | null>(HOST_CACHE_SIZE);
  let lastHeader: string | undefined;
  let lastName: string | null = null;
  const nameOf = (header: string): string | undefined => {
    if (header !== lastHeader) {
      let name = names.get(header);
      if (name === undefined) names.set(header, (name = hostName(header) ?? null));
      lastHeader = header;
      lastName = name;
    }
    return lastName ?? undefined;
  };
  const baseOrigins = new Set([config.PUBLIC_BASE_URL, config.SHORTURL_BASE_URL].filter((u): u is string => !!u).map(origin));

  return (req: Request, path: string): AppError | undefined => {
    if (!EXEMPT_HOST_PATHS.has(path)) {
      const host = req.headers.host === undefined ? undefined : nameOf(req.headers.host);
      if (host === undefined || !hosts.has(host)) {
        return new AppError('MISDIRECTED_REQUEST', 'this service does not answer for that Host; add the name to ALLOWED_HOSTS (or PUBLIC_BASE_URL)');
      }
    }
    if (SAFE_METHODS.has(req.method) || !CSRF_PREFIXES.some((p) => under(path, p))) return undefined;

    const given = req.headers.origin;
    if (given !== undefined) {
      const own = given.toLowerCase() === `${req.protocol}://${req.headers.host ?? ''}`.toLowerCase() || baseOrigins.has(given.toLowerCase());
      if (!own) return new AppError('FORBIDDEN', 'requests from a page on another origin are refused');
    }
    if (String(req.headers['sec-fetch-site'] ?? '').toLowerCase() === 'cross-site') {
      return new AppError('FORBIDDEN', 'cross-site requests are refused');
    }
    if (under(path, '/admin') && path !== LOGIN_PATH && hasBody(req) && !ADMIN_BODY.test(req.headers['content-type'] ?? '')) {
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'the admin API takes Content-Type application/json (or text/csv for imports)');
    }
    return undefined;
  };
}
