import { AppError, invalid, missing } from '../http/errors.js';
import { normalizePhone } from '../phone.js';
import { MAX_CONTACTS } from './contactNumbers.js';

/**
 * createOutbound's `contacts` (docs/http.md §9): `[{"number", "keys": {NAME: value}}]`, replacing
 * `contactNumbers`. JSON gives the array itself; a form gives it as one JSON text (forms have no
 * nesting); XML gives `<contacts><item><number>…</number><keys><city>Pune</city></keys></item>…`.
 * Numbers are normalised like contactNumbers (every invalid one listed in `error.invalid`); a
 * number given twice counts once, with the keys of its first entry. Key names are 1–64 of
 * `[A-Za-z0-9_.-]`, values scalars kept as text of at most 1024 characters, 50 keys a contact.
 */

export interface NewContact {
  number: string;
  keys: Record<string, string>;
}

const FIELD = 'contacts';
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_KEYS = 50;
const MAX_VALUE = 1024;

export function parseContacts(raw: unknown, region: string): NewContact[] {
  const entries = entriesOf(raw);
  if (entries.length === 0) throw missing(FIELD);
  const out: NewContact[] = [];
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const e of entries) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw invalid(FIELD, 'each contact must be an object with a number and optional keys');
    const { number, keys, ...rest } = e as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw invalid(FIELD, `a contact has only number and keys (got ${unknown.slice(0, 64)})`);
    const text = typeof number === 'number' && Number.isSafeInteger(number) ? String(number) : number;
    const e164 = typeof text === 'string' ? normalizePhone(text, region) : undefined;
    if (e164 === undefined) {
      bad.push(typeof text === 'string' ? text : JSON.stringify(text ?? null));
      continue;
    }
    const k = keysOf(keys);
    if (!seen.has(e164)) {
      seen.add(e164);
      out.push({ number: e164, keys: k });
    }
  }
  if (bad.length > 0) {
    throw new AppError('INVALID_PARAMETER', `${bad.length} contact number${bad.length === 1 ? ' is' : 's are'} not valid`, FIELD, { invalid: bad });
  }
  if (out.length > MAX_CONTACTS) throw invalid(FIELD, `at most ${MAX_CONTACTS} distinct numbers per request (got ${out.length})`);
  return out;
}

function entriesOf(raw: unknown): unknown[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (typeof raw === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid(FIELD, 'contacts must be a JSON array of {"number", "keys"} objects');
    }
    return entriesOf(parsed);
  }
  if (Array.isArray(raw)) return raw;
  // XML: <contacts><item>…</item>…</contacts> (one item is an object, several an array).
  if (typeof raw === 'object' && Object.keys(raw).length === 1 && 'item' in raw) return ([] as unknown[]).concat((raw as { item: unknown }).item);
  throw invalid(FIELD, 'contacts must be a list of {"number", "keys"} objects');
}

function keysOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(FIELD, 'keys must be an object of NAME: value');
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries = Object.entries(raw);
  if (entries.length > MAX_KEYS) throw invalid(FIELD, `at most ${MAX_KEYS} keys a contact`);
  for (const [name, value] of entries) {
    if (!KEY_NAME.test(name)) throw invalid(FIELD, 'key names are 1-64 characters of A-Z a-z 0-9 _ . -');
    if (value !== null && typeof value === 'object') throw invalid(FIELD, `key ${name} must be a text, number or boolean`);
    const text = value === null ? '' : String(value);
    if ([...text].length > MAX_VALUE) throw invalid(FIELD, `key ${name} is longer than ${MAX_VALUE} characters`);
    out[name] = text;
  }
  return { ...out };
}
