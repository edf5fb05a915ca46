import ipaddr from 'ipaddr.js';
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
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (ownHosts.has(host) || isLocalHost(host)) {
    throw invalid('longUrl', 'longUrl must not point at this service or at a loopback or unspecified address');
  }
  // eslint-disable-next-line no-control-regex
  const stored = /^[\x21-\x7e]*$/.test(input) ? input : url.href;
  // UTF-16 length bounds the code-point count from above, so only long texts need counting.
  if (stored.length > MAX_LONG_URL_CHARS && [...stored].length > MAX_LONG_URL_CHARS) {
    throw invalid('longUrl', `longUrl must be at most ${MAX_LONG_URL_CHARS} characters once encoded`);
  }
  return stored;
}

/**
 * A host that means "this machine" however it is spelt (docs/http.md §7.4): `localhost` and its
 * subdomains, 127.0.0.0/8, ::1, 0.0.0.0/8, ::, and IPv4 inside IPv6 (::ffff:127.0.0.1,
 * ::127.0.0.1). The WHATWG URL parser has already turned 0x7f000001, 2130706433, 0177.1 and
 * friends into dotted decimal.
 */
const IP_LITERAL_CHARS = /^[0-9a-f.:]+$/;

export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // Only hex digits, dots and colons can spell an address: a DNS name is not handed to ipaddr,
  // whose failed parses throw (most of a link creation's CPU when every long URL is a name).
  if (!IP_LITERAL_CHARS.test(literal) || !ipaddr.isValid(literal)) return false;
  let addr = ipaddr.process(literal);
  if (addr.kind() === 'ipv6') {
    const parts = (addr as ipaddr.IPv6).parts;
    // IPv4-compatible (::a.b.c.d, deprecated) still reaches the IPv4 address on some stacks.
    if (parts.slice(0, 6).every((p) => p === 0) && (parts[6]! !== 0 || parts[7]! > 1)) {
      addr = ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 255}.${parts[7]! >> 8}.${parts[7]! & 255}`);
    }
  }
  return addr.range() === 'loopback' || addr.range() === 'unspecified';
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
