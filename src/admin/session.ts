import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { SessionStore } from './session.store.js';

/**
 * Supervisor sessions (docs/http.md §8.2): a signed cookie, so no instance keeps session memory
 * and any instance on the same settings accepts it. The value is
 * `<role>.<id>.<expiry seconds>.<signature>`: `id` is 16 random bytes (base64url), the signature an
 * HMAC-SHA256 over `<role>.<id>.<expiry>` with a key derived from the token of that role
 * (ADMIN_TOKEN for `admin`, BOARD_TOKEN for `board`): changing a token ends every session made
 * with it. Checked in constant time. Logout records the id in the database (SessionStore), and a
 * cookie whose id is recorded is refused by every instance, like no cookie at all.
 */

export type Role = 'admin' | 'board';

export const SESSION_COOKIE = 'cw_session';
export const SESSION_SECONDS = 12 * 60 * 60;

export interface Sessions {
  /** The role a token grants (ADMIN_TOKEN → admin, BOARD_TOKEN → board), compared in constant time. */
  roleOfToken(token: string): Role | undefined;
  /** A fresh cookie value for the role, valid SESSION_SECONDS from now. */
  issue(role: Role): { value: string; expiresAt: number };
  /** The role of the request's valid session cookie, if any (not ended by logout). */
  roleOf(req: Request): Promise<Role | undefined>;
  /** End the request's session, if its cookie is valid: no instance accepts that cookie again. */
  revoke(req: Request): Promise<void>;
}

interface Cookie {
  role: Role;
  id: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

function digest(s: string): Buffer {
  return createHmac('sha256', 'central-webhooks token').update(s).digest();
}

function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The value of one cookie in a Cookie header (RFC 6265 syntax; the first one wins). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createSessions(config: Config, clock: Clock, store: SessionStore): Sessions {
  const tokens = new Map<Role, string>();
  if (config.ADMIN_TOKEN) tokens.set('admin', config.ADMIN_TOKEN);
  if (config.BOARD_TOKEN) tokens.set('board', config.BOARD_TOKEN);
  const keys = new Map([...tokens].map(([role, token]) => [role, createHmac('sha256', token).update('central-webhooks session v1').digest()]));

  const sign = (role: Role, id: string, exp: number) =>
    createHmac('sha256', keys.get(role)!).update(`${role}.${id}.${exp}`).digest('base64url');

  /** The request's cookie when its signature and expiry are good (revocation not checked). */
  const signedCookie = (req: Request): Cookie | undefined => {
    const value = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const m = value && /^(admin|board)\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return undefined;
    const role = m[1] as Role;
    const id = m[2]!;
    const exp = Number(m[3]);
    if (!keys.has(role)) return undefined;
    const now = clock.now() / 1000;
    if (exp <= now || exp > now + SESSION_SECONDS + 60) return undefined;
    const expected = Buffer.from(sign(role, id, exp));
    const given = Buffer.from(m[4]!);
    return given.length === expected.length && timingSafeEqual(given, expected) ? { role, id, exp } : undefined;
  };

  return {
    roleOfToken(token) {
      let found: Role | undefined;
      // Compare with every token so the time taken does not say which one matched.
      for (const [role, expected] of tokens) if (sameSecret(token, expected)) found ??= role;
      return found;
    },
    issue(role) {
      const id = randomBytes(16).toString('base64url');
      const exp = Math.floor(clock.now() / 1000) + SESSION_SECONDS;
      return { value: `${role}.${id}.${exp}.${sign(role, id, exp)}`, expiresAt: exp * 1000 };
    },
    async roleOf(req) {
      const c = signedCookie(req);
      // Only a correctly signed cookie costs a database lookup.
      if (!c || (await store.isRevoked(c.id))) return undefined;
      return c.role;
    },
    async revoke(req) {
      const c = signedCookie(req);
      if (c) await store.revoke(c.id, c.exp * 1000, clock.now());
    },
  };
}
