import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { LruCache } from './lruCache.js';

/**
 * Phone numbers to E.164 (docs/http.md §1.2). Formatting characters (spaces, dashes, dots, brackets)
 * are allowed; anything else (letters, `sip:`, `client:alice`, `anonymous`) is not a number.
 * `max` metadata is used so validity is checked against each region's real number ranges.
 *
 * Parsing with `max` metadata costs tens of µs, and the same few numbers (agents calling in,
 * callers of a flow) come back all day, so results are kept in a bounded least-recently-used
 * cache: a known number is normalised once. The cache holds results only (never a request's
 * other data); a number that is not valid is cached as such too, so garbage costs one parse.
 */
const FORMATTED_NUMBER = /^\+?[0-9 ().\-]+$/;

export const PHONE_CACHE_SIZE = 10_000;

/** input + region → E.164, or null for "not a valid number". */
const cache = new LruCache<string, string | null>(PHONE_CACHE_SIZE);

function parse(input: string, region: string): string | null {
  const s = input.trim();
  if (s.length > 40 || !FORMATTED_NUMBER.test(s)) return null;
  const digits = s.replace(/[^0-9]/g, '');
  if (digits.length < 5 || digits.length > 17) return null;
  const parsed = parsePhoneNumberFromString(s, { defaultCountry: region as CountryCode, extract: false });
  if (!parsed || !parsed.isValid()) return null;
  return parsed.number;
}

export function normalizePhone(input: string, region: string): string | undefined {
  // Long inputs (a number padded with spaces, or not a number at all) are parsed, not cached.
  if (input.length > 64) return parse(input, region) ?? undefined;
  const key = `${region}|${input}`;
  let e164 = cache.get(key);
  if (e164 === undefined) cache.set(key, (e164 = parse(input, region)));
  return e164 ?? undefined;
}

/** Entries in the cache (for tests of its bound). */
export const phoneCacheSize = (): number => cache.size;
