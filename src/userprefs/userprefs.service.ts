import type { Clock } from '../clock.js';
import { invalid, quote } from '../http/errors.js';
import { boundChildren, type Metrics } from '../observability/metrics.js';
import type { KeyChanges, UserPrefsStore, UserRef } from './userprefs.store.js';

/** Rules of docs/http.md §2.5 for user keys. */
export const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_VALUE_CHARS = 4096;
export const MAX_KEYS_PER_USER = 200;

/** One user key as the caller gave it; `field` is the spelling used in error messages. */
export interface KeyInput {
  field: string;
  name: string;
  value: unknown;
}

/** A user's keys as a reply object. No prototype, so a key named `__proto__` is just a key. */
export type KeyObject = Record<string, string>;

export class UserPrefsService {
  private readonly updates;

  constructor(
    private readonly store: UserPrefsStore,
    private readonly clock: Clock,
    metrics: Metrics,
  ) {
    this.updates = boundChildren(metrics.userPreferenceUpdates);
  }

  /** Merge the given keys into the user's keys (null deletes) and return every key they now have. */
  async update(user: UserRef, inputs: KeyInput[]): Promise<KeyObject> {
    const changes: KeyChanges = new Map();
    for (const { field, name, value } of inputs) {
      if (!KEY_NAME.test(name)) throw invalid(field, `key name "${quote(name)}" must be 1-64 characters of A-Z a-z 0-9 _ . -`);
      if (changes.has(name)) throw invalid(field, `key ${quote(name)} was given more than once`);
      changes.set(name, toStoredValue(field, value));
    }
    const result = await this.store.apply(user, changes, this.clock.now(), MAX_KEYS_PER_USER);
    if (!result.ok) {
      throw invalid('key', `a user may have at most ${MAX_KEYS_PER_USER} keys; this update would leave ${result.count}`);
    }
    this.updates(user.stage).inc();
    return toKeyObject(result.keys);
  }

  async get(user: UserRef): Promise<KeyObject> {
    return toKeyObject(await this.store.keys(user));
  }
}

/** A scalar kept as text; JSON null (only JSON can express it) means delete. */
function toStoredValue(field: string, value: unknown): string | null {
  if (value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else throw invalid(field, `${field} must be a single text, number or boolean value`);
  // UTF-16 length bounds the code-point count from above, so only long values need counting.
  if (text.length > MAX_VALUE_CHARS && [...text].length > MAX_VALUE_CHARS) {
    throw invalid(field, `${field} must be at most ${MAX_VALUE_CHARS} characters`);
  }
  return text;
}

function toKeyObject(rows: [string, string][]): KeyObject {
  const out: KeyObject = Object.create(null);
  for (const [name, value] of rows) out[name] = value;
  return out;
}
