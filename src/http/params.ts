import type { Request, Response } from 'express';
import { invalid, missing, quote } from './errors.js';
import { normalizePhone } from '../phone.js';
import { queryPairs } from './query.js';

/**
 * Request parameters after docs/http.md §1.2 and 1.5: query string and body merged (the body wins),
 * short names matched case-insensitively, Central flow variable names (`$flow.key.cli`,
 * `$flow.syskey.apiVersion`, `$user.syskey.contactNumber`) reduced to their short name, and
 * user keys (`key.NAME`, `$user.key.NAME`) kept apart with their case. Everything lives in Maps,
 * so a name such as `__proto__` or `constructor` is only ever an unknown name.
 */

interface Slot {
  /** The name as the caller spelled it (for error messages). */
  name: string;
  value: unknown;
  /** How many times the name was given within one source. */
  count: number;
  /** Every value given under the name, in order (for list parameters). */
  values: unknown[];
}

/** A value holding U+0000 is refused when it is read (so a method's failure fields still apply). */
function readable(slot: Slot): Slot {
  if (slot.name.includes('\u0000') || slot.values.some(hasNul)) throw invalid(slot.name, `${quote(slot.name)} must not contain NUL characters`);
  return slot;
}

const PARAM_PREFIXES = ['$flow.key.', '$flow.syskey.', '$user.syskey.'];
const USER_KEY_PREFIXES = ['$user.key.', 'key.'];

export class Params {
  private readonly params = new Map<string, Slot>();
  private readonly keys = new Map<string, Slot>();

  constructor(sources: Iterable<Iterable<[string, unknown]>>) {
    // Later sources win over earlier ones, one name at a time.
    for (const source of sources) {
      const params = new Map<string, Slot>();
      const keys = new Map<string, Slot>();
      for (const [name, value] of source) {
        const userKey = stripUserKeyPrefix(name);
        const [map, id] = userKey !== undefined ? [keys, userKey] : [params, shortName(name)];
        const seen = map.get(id);
        if (seen) {
          seen.count++;
          seen.values.push(value);
        } else map.set(id, { name, value, count: 1, values: [value] });
      }
      for (const [id, slot] of params) this.params.set(id, slot);
      for (const [id, slot] of keys) this.keys.set(id, slot);
    }
  }

  /** Build from the request: query string first, then the decoded body (if any). */
  static fromRequest(req: Request, res: Response): Params {
    const query = queryPairs(req);
    const fields = res.locals.input?.fields ?? [];
    return new Params([query, Array.isArray(fields) ? fields : Object.entries(fields)]);
  }

  has(name: string): boolean {
    const slot = this.params.get(name.toLowerCase());
    return slot !== undefined && slot.value !== null && slot.value !== undefined;
  }

  /** The raw value (string, number, boolean, object, array); throws when given more than once. */
  raw(name: string): unknown {
    const slot = this.params.get(name.toLowerCase());
    if (!slot) return undefined;
    readable(slot);
    if (slot.count > 1) throw invalid(name, `${name} was given more than once`);
    return slot.value;
  }

  /**
   * A list parameter: one value as given (a JSON array, repeated XML elements, one text), or the
   * values of a form field or query parameter repeated in the same source, as an array.
   */
  list(name: string): unknown {
    const slot = this.params.get(name.toLowerCase());
    if (!slot) return undefined;
    readable(slot);
    return slot.count > 1 ? slot.values : slot.value;
  }

  /** A scalar as text; undefined when absent or JSON null. */
  string(name: string, opts: { max?: number; min?: number } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object') throw invalid(name, `${name} must be a single value`);
    const s = String(v);
    // Code points are counted only when the UTF-16 length cannot settle it: a text has at most
    // `length` and at least `length / 2` code points.
    if (opts.min !== undefined && Math.ceil(s.length / 2) < opts.min && codePoints(s) < opts.min) {
      throw invalid(name, `${name} must be at least ${opts.min} characters`);
    }
    if (opts.max !== undefined && s.length > opts.max && codePoints(s) > opts.max) {
      throw invalid(name, `${name} must be at most ${opts.max} characters`);
    }
    return s;
  }

  requireString(name: string, opts: { max?: number; min?: number } = {}): string {
    const s = this.string(name, opts);
    if (s === undefined || s.trim() === '') throw missing(name);
    return s;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    const b = parseBoolean(v);
    if (b === undefined) throw invalid(name, `${name} must be true or false`);
    return b;
  }

  requireBool(name: string): boolean {
    const b = this.bool(name);
    if (b === undefined) throw missing(name);
    return b;
  }

  int(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    const n = parseInteger(v);
    if (n === undefined) throw invalid(name, `${name} must be a whole number`);
    if (opts.min !== undefined && n < opts.min) throw invalid(name, `${name} must be at least ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) throw invalid(name, `${name} must be at most ${opts.max}`);
    return n;
  }

  /** A phone number normalised to E.164 (docs/http.md §1.2). */
  requirePhone(name: string, region: string): string {
    const s = this.requireString(name);
    const e164 = normalizePhone(s, region);
    if (!e164) throw invalid(name, `${name} is not a valid phone number`);
    return e164;
  }

  /** User keys given as `key.NAME` or `$user.key.NAME`, case kept; throws on a repeated name. */
  userKeys(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [id, slot] of this.keys) {
      readable(slot);
      if (slot.count > 1) throw invalid(slot.name, `${quote(slot.name)} was given more than once`);
      out.set(id, slot.value);
    }
    return out;
  }
}

/**
 * Whether a parameter value holds U+0000 anywhere (also inside arrays and objects). Neither
 * database keeps it as text (PostgreSQL refuses it), so it is a 400 here, the same on every
 * engine (docs/http.md §7.4). JSON nesting is bounded (100 levels), so the walk is too.
 */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k.includes('\u0000') || hasNul(v)) return true;
  }
  return false;
}

const codePoints = (s: string): number => [...s].length;

/**
 * A case-insensitive prefix match: the rest of the name after the first of `prefixes` it starts
 * with. Names whose first character starts none of them (most names) are passed over at once.
 */
function prefixStripper(prefixes: string[]): (name: string) => string | undefined {
  // Lowered as the whole prefix is below (so the Kelvin sign still reads as a `k`).
  const first = new Set(prefixes.map((p) => p[0]!.toLowerCase()));
  return (name) => {
    if (!first.has(name.charAt(0).toLowerCase())) return undefined;
    for (const p of prefixes) {
      if (name.length > p.length && name.slice(0, p.length).toLowerCase() === p) return name.slice(p.length);
    }
    return undefined;
  };
}
const stripParamPrefix = prefixStripper(PARAM_PREFIXES);
const stripUserKeyPrefix = prefixStripper(USER_KEY_PREFIXES);

/** `$flow.key.CLI` → `cli`; `securityId` → `securityid`. */
export function shortName(name: string): string {
  return (stripParamPrefix(name) ?? name).toLowerCase();
}

export function parseBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return undefined;
}

export function parseInteger(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string' || !/^-?[0-9]+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Admin JSON bodies name only the route's own fields (docs/http.md §8.4): a misspelt field is
 * a 400 naming it rather than silently ignored. Names match as parameters do (case-insensitive
 * short names); throws INVALID_PARAMETER with `field` set to the first unknown name.
 */
export function assertKnownFields(fields: Record<string, unknown>, known: readonly string[]): void {
  const allowed = new Set(known.map((k) => k.toLowerCase()));
  for (const name of Object.keys(fields)) {
    if (!allowed.has(shortName(name))) {
      const shown = [...name].slice(0, 64).join('');
      throw invalid(shown, `unknown field "${shown}"; this body takes ${known.join(', ')}`);
    }
  }
}

/** `assertKnownFields` for the request's body when it is a JSON object. */
export function assertKnownBodyFields(res: Response, known: readonly string[]): void {
  const input = res.locals.input;
  if (input?.kind === 'json' && !Array.isArray(input.fields)) assertKnownFields(input.fields, known);
}
