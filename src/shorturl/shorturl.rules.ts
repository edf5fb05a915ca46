import { invalid } from '../http/errors.js';

/** Input rules for short-URL creation (docs/http.md §3). Nothing here ever fetches a URL. */

export const MAX_LONG_URL_CHARS = 2048;
export const SLUG = /^[A-Za-z0-9_-]{4,64}$/;

/**
 * First path segments the service answers itself (or may soon), compared case-insensitively so
 * a slug can never shadow or be confused with one of them.
 */
export const RESERVED_SLUGS = new Set(
  [
    'healthz',
    'metrics',
    'admin',
    'ivr',
    'mapping',
    'UrlShortner',
    'UrlShortener',
    'centraloutboundwebhook-v1',
    'board',
    'events',
    'stats',
    'api',
    'static',
    'assets',
    'favicon',
    'robots',
  ].map((s) => s.toLowerCase()),
);

// Control, format (zero-width, bidi) and separator characters, any whitespace, and backslashes
// (which browsers read as `/`, so `https://a.com\@b.com` could mean two different hosts).
const FORBIDDEN_CHARS = /[\p{Cc}\p{Cf}\p{Z}\s\\]/u;
const HTTP_PREFIX = /^https?:\/\/([^/?#]*)/i;

/**
 * Check a long URL and return the text to store and send as `Location`: the URL exactly as given
 * when it is ASCII, else its ASCII form (punycode host, percent-encoded UTF-8) as browsers send it,
 * because an HTTP header cannot carry raw non-ASCII text.
 */
export function checkLongUrl(input: string, ownHosts: ReadonlySet<string>): string {
  if (input.length > MAX_LONG_URL_CHARS && [...input].length > MAX_LONG_URL_CHARS) {
    throw invalid('longUrl', `longUrl must be at most ${MAX_LONG_URL_CHARS} characters`);
  }
  if (FORBIDDEN_CHARS.test(input)) {
    throw invalid('longUrl', 'longUrl must not contain whitespace, control characters or backslashes');
  }
  const prefix = HTTP_PREFIX.exec(input);
  if (!prefix) throw invalid('longUrl', 'longUrl must be an absolute http:// or https:// URL');
  const authority = prefix[1]!;
  if (authority === '') throw invalid('longUrl', 'longUrl must have a host');
  if (authority.includes('@')) throw invalid('longUrl', 'longUrl must not contain a user name or password');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw invalid('longUrl', 'longUrl is not a valid URL');
  }
  if (url.hostname === '') throw invalid('longUrl', 'longUrl must have a host');
  if (ownHosts.has(url.hostname.replace(/\.$/, ''))) {
    throw invalid('longUrl', 'longUrl must not point at this service’s own short links');
  }
  // eslint-disable-next-line no-control-regex
  const stored = /^[\x21-\x7e]*$/.test(input) ? input : url.href;
  if ([...stored].length > MAX_LONG_URL_CHARS) {
    throw invalid('longUrl', `longUrl must be at most ${MAX_LONG_URL_CHARS} characters once encoded`);
  }
  return stored;
}

/** Host names whose links would lead back here: the short-link bases (and the public base URL). */
export function ownHostsOf(bases: Iterable<string | undefined>): Set<string> {
  const hosts = new Set<string>();
  for (const base of bases) if (base) hosts.add(new URL(base).hostname.replace(/\.$/, ''));
  return hosts;
}

export function checkSlug(slug: string): string {
  if (!SLUG.test(slug)) throw invalid('customSlug', 'customSlug must be 4-64 characters of A-Z a-z 0-9 _ -');
  if (RESERVED_SLUGS.has(slug.toLowerCase())) {
    throw invalid('customSlug', `customSlug "${slug}" is a path this service uses`);
  }
  return slug;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i;

/**
 * An ISO-8601 instant: a date-time with `Z` or an offset, or a date alone (midnight UTC).
 * A date-time without a zone is refused: whose local time would it be?
 */
export function parseIsoInstant(field: string, text: string): number {
  const m = ISO_DATE_TIME.exec(text.trim());
  const fail = () => invalid(field, `${field} must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T18:30:00Z`);
  if (!m) throw fail();
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const utc = Date.UTC(...parts);
  const back = new Date(utc);
  // Date.UTC rolls 2030-02-30 over to March; a round trip exposes impossible dates and times.
  if (
    back.getUTCFullYear() !== parts[0] ||
    back.getUTCMonth() !== parts[1] ||
    back.getUTCDate() !== parts[2] ||
    back.getUTCHours() !== parts[3] ||
    back.getUTCMinutes() !== parts[4] ||
    back.getUTCSeconds() !== parts[5]
  ) {
    throw fail();
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) throw fail();
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return utc + Math.floor(Number(`0${frac}`) * 1000) - offsetMinutes * 60_000;
}
