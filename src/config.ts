import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { DIALECTS, type Dialect } from './ivr/dialects.js';
import proxyaddr from 'proxy-addr';

/**
 * Every setting of the service, read once from the environment, validated and frozen.
 * Keep this list in the same order as `.env.example` and the README table.
 */

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (schemes: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be an absolute ${schemes.map((s) => s.replace(':', '')).join('/')} URL`)
    .transform((v) => v.replace(/\/+$/, ''));

const optionalUrl = (schemes: string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v))
    .pipe(url(schemes).optional());

/** Comma-separated IPv4/IPv6 addresses and CIDRs, parsed once so each request only matches. */
const cidrList = z
  .string()
  .transform((v, ctx) => {
    const out: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    for (const raw of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      try {
        if (raw.includes('/')) out.push(ipaddr.parseCIDR(raw));
        else {
          const addr = ipaddr.parse(raw);
          out.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
        }
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not an IP address or CIDR` });
        return z.NEVER;
      }
    }
    return out;
  });

/**
 * Express's trust proxy setting: a hop count, or names/addresses/CIDRs (docs/http.md §7.2).
 * `true` is refused: it believes the left-most X-Forwarded-For entry, which any client writes.
 */
const trustProxy = z.string().transform((v, ctx): false | number | string => {
  const s = v.trim();
  if (s === '' || s.toLowerCase() === 'false') return false;
  if (s.toLowerCase() === 'true') {
    ctx.addIssue({
      code: 'custom',
      message: 'must not be true: that lets any client choose its address; give a hop count, loopback, or the proxies\' addresses/CIDRs',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(s)) return Number(s);
  try {
    proxyaddr.compile(s.split(',').map((x) => x.trim()));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a hop count, loopback, linklocal, uniquelocal, or IP addresses/CIDRs' });
    return z.NEVER;
  }
  return s;
});

/** Extra host names the service answers to (docs/http.md §7.3), e.g. `central.example.com`. */
const hostList = z.string().transform((v, ctx) => {
  const out: string[] = [];
  for (const raw of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    let ok = false;
    try {
      const u = new URL(`http://${raw}`);
      ok = u.pathname === '/' && !u.search && !u.hash && !u.username && !u.port;
    } catch {
      ok = false;
    }
    if (!ok) {
      ctx.addIssue({ code: 'custom', message: `"${raw.slice(0, 64)}" is not a host name (no scheme, port or path)` });
      return z.NEVER;
    }
    out.push(raw);
  }
  return out;
});

const tokenList = z.string().transform((v, ctx) => {
  const tokens = new Map<string, string | undefined>();
  for (const entry of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const token = eq === -1 ? entry : entry.slice(0, eq).trim();
    const domain = eq === -1 ? undefined : entry.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9_-]{4,128}$/.test(token)) {
      ctx.addIssue({ code: 'custom', message: 'each token must be 4-128 characters of [A-Za-z0-9_-]' });
      return z.NEVER;
    }
    if (domain !== undefined) {
      const parsed = url(['http:', 'https:']).safeParse(domain);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `domain of token ${token.slice(0, 2)}… must be an http(s) URL` });
        return z.NEVER;
      }
      tokens.set(token, parsed.data);
    } else tokens.set(token, undefined);
  }
  return tokens;
});

/** `HH:MM-HH:MM`; unset means the India default 09:00-21:00 and `off` means no window (docs/http.md §9). */
const callingWindow = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') v = DEFAULT_CALLING_WINDOW;
    if (v.trim().toLowerCase() === 'off') return undefined;
    const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'must look like 09:00-21:00 or be off' });
      return z.NEVER;
    }
    const start = Number(m[1]) * 60 + Number(m[2]);
    const end = Number(m[3]) * 60 + Number(m[4]);
    if (start === end) {
      ctx.addIssue({ code: 'custom', message: 'start and end must differ' });
      return z.NEVER;
    }
    return { startMinute: start, endMinute: end };
  });

export const DEFAULT_CALLING_WINDOW = '09:00-21:00';

/** Comma-separated `YYYY-MM-DD` days on which no outbound call goes out (in CALLING_TZ). */
const holidays = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const days = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    for (const d of days) {
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(d) && new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) === d;
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: `"${d.slice(0, 20)}" is not a YYYY-MM-DD date` });
        return z.NEVER;
      }
    }
    return Object.freeze([...new Set(days)]);
  });

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Kolkata');

export const configSchema = z.object({
  HOST: z.string().trim().min(1).prefault('127.0.0.1'),
  PORT: int(0, 65535).prefault("3000"),
  DATABASE_PATH: z.string().trim().min(1).prefault('data/central.db'),
  // docs/http.md §11: a postgres:// URL selects PostgreSQL; unset keeps SQLite at DATABASE_PATH.
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .refine((v) => {
        try {
          return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  DEFAULT_REGION: z
    .string()
    .trim()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter ISO region such as IN')
    .prefault('IN'),

  ALLOWED_IPS: cidrList.prefault('127.0.0.0/8,::1'),
  TRUST_PROXY: trustProxy.prefault('false'),
  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  ALLOW_HTTP: bool.prefault('false'),
  ALLOWED_HOSTS: hostList.prefault(''),
  ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Read-only supervisor login for the board, stream, reports and other admin GETs (docs/http.md §8.2). */
  BOARD_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),

  RATE_LIMIT_PER_IP: int(0, 1_000_000).prefault("200"),
  PAUSE_CHANGES_PER_MINUTE: int(0, 100_000).prefault("10"),
  SHORTURL_CREATES_PER_MINUTE: int(0, 1_000_000).prefault("600"),
  SHORTURL_MISSES_PER_MINUTE: int(0, 1_000_000).prefault("60"),

  PUBLIC_BASE_URL: optionalUrl(['http:', 'https:']),
  TWILIO_AUTH_TOKEN: optionalString,
  PLIVO_AUTH_TOKEN: optionalString,
  TELNYX_PUBLIC_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32, 'must be the base64 ed25519 public key shown in the Telnyx portal')
      .optional(),
  ),
  IVR_CALL_MAX_MINUTES: int(1, 7 * 24 * 60).prefault('240'),
  IVR_DIALECT: z.enum(DIALECTS as [Dialect, ...Dialect[]]).prefault('twiml'),
  IVR_MODE: z.enum(['toggle', 'menu']).prefault('toggle'),
  IVR_SPEECH: bool.prefault('true'),
  IVR_LANGUAGE: z.string().trim().min(2).prefault('en'),
  IVR_DIR: z.string().trim().min(1).prefault('ivr'),

  MAX_BREAK_MINUTES: int(0, 24 * 60).prefault("0"),
  AUTO_RESUME: bool.prefault('false'),
  EVENTS_WEBHOOK_URL: optionalUrl(['http:', 'https:']),
  EVENTS_WEBHOOK_SECRET: optionalString,

  DIALER_URL: optionalUrl(['http:', 'https:']),
  DIALER_TIMEOUT_MS: int(100, 120_000).prefault("5000"),
  DIALER_MAX_ATTEMPTS: int(1, 20).prefault("5"),
  CALLING_WINDOW: callingWindow,
  CALLING_TZ: timeZone.prefault('Asia/Kolkata'),
  CALLING_HOLIDAYS: holidays,
  // Outbound on real platforms (docs/http.md §9). DIALER defaults to http with DIALER_URL, else record.
  DIALER: z.enum(['record', 'http', 'twilio', 'plivo', 'exotel']).optional(),
  TWILIO_ACCOUNT_SID: optionalString.pipe(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex digits').optional()),
  TWILIO_API_URL: optionalUrl(['http:', 'https:']),
  PLIVO_AUTH_ID: optionalString,
  PLIVO_API_URL: optionalUrl(['http:', 'https:']),
  EXOTEL_ACCOUNT_SID: optionalString,
  EXOTEL_API_KEY: optionalString,
  EXOTEL_API_TOKEN: optionalString,
  EXOTEL_API_URL: optionalUrl(['http:', 'https:']),
  OUTBOUND_RETRIES: int(0, 10).prefault('2'),
  OUTBOUND_RETRY_MINUTES: int(1, 24 * 60).prefault('10'),

  /** Unset: PUBLIC_BASE_URL, else http://localhost:{PORT} (docs/http.md §8.1). */
  SHORTURL_BASE_URL: optionalUrl(['http:', 'https:']),
  SHORTURL_TOKENS: tokenList.prefault('abcd1234'),
  SHORTURL_REDIRECT_STATUS: z.enum(['301', '302']).prefault('302').transform(Number),
});

export type DialerName = 'record' | 'http' | 'twilio' | 'plivo' | 'exotel';

/** DIALER is always resolved (docs/http.md §9): http with DIALER_URL, else record. */
export type Config = Readonly<
  Omit<z.output<typeof configSchema>, 'SHORTURL_BASE_URL' | 'DIALER'> & { SHORTURL_BASE_URL: string; DIALER: DialerName }
>;

export class ConfigError extends Error {}

/** Parse the environment; on failure throw one line naming the variable and what is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) input[key] = env[key];
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  const cfg = result.data;
  if ((cfg.TLS_CERT_FILE === undefined) !== (cfg.TLS_KEY_FILE === undefined)) {
    throw new ConfigError('Invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (cfg.BOARD_TOKEN !== undefined && cfg.ADMIN_TOKEN === undefined) {
    throw new ConfigError('Invalid configuration: BOARD_TOKEN needs ADMIN_TOKEN (without it the admin API serves loopback callers only)');
  }
  if (cfg.BOARD_TOKEN !== undefined && cfg.BOARD_TOKEN === cfg.ADMIN_TOKEN) {
    throw new ConfigError('Invalid configuration: BOARD_TOKEN must differ from ADMIN_TOKEN');
  }
  // docs/http.md §7.1: the signed URL is never built from the request's Host header.
  if ((cfg.TWILIO_AUTH_TOKEN || cfg.PLIVO_AUTH_TOKEN) && !cfg.PUBLIC_BASE_URL) {
    const token = cfg.TWILIO_AUTH_TOKEN ? 'TWILIO_AUTH_TOKEN' : 'PLIVO_AUTH_TOKEN';
    throw new ConfigError(`Invalid configuration: PUBLIC_BASE_URL is required when ${token} is set (platform signatures cover the public URL)`);
  }
  if (cfg.EVENTS_WEBHOOK_URL && !cfg.EVENTS_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid configuration: EVENTS_WEBHOOK_SECRET is required when EVENTS_WEBHOOK_URL is set');
  }
  const dialer = cfg.DIALER ?? (cfg.DIALER_URL ? 'http' : 'record');
  const needs: Record<string, string[]> = {
    record: [],
    http: ['DIALER_URL'],
    twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'PUBLIC_BASE_URL'],
    plivo: ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PUBLIC_BASE_URL'],
    exotel: ['EXOTEL_ACCOUNT_SID', 'EXOTEL_API_KEY', 'EXOTEL_API_TOKEN', 'PUBLIC_BASE_URL'],
  };
  const lacking = needs[dialer]!.filter((k) => cfg[k as keyof typeof cfg] === undefined);
  if (lacking.length > 0) throw new ConfigError(`Invalid configuration: DIALER=${dialer} needs ${lacking.join(', ')}`);
  return Object.freeze({ ...cfg, DIALER: dialer, SHORTURL_BASE_URL: cfg.SHORTURL_BASE_URL ?? cfg.PUBLIC_BASE_URL ?? `http://localhost:${cfg.PORT}` });
}

/** Config for tests and tools: defaults plus overrides given as environment strings. */
export function configFrom(overrides: Record<string, string> = {}): Config {
  return loadConfig(overrides);
}
