import type { Request, Response } from 'express';
import { queryPairs } from '../http/query.js';

/**
 * What a platform's callback tells us about the call (docs/http.md §4): caller CLI, DID, call id and
 * pressed digits, from the query string and any body (form, JSON nested or flat, XML), names
 * matched case-insensitively, the body winning over the query. Nested objects are flattened to
 * dotted names, so `{"call": {"cli": {"number": …}}}` and `"call.cli.number"` read the same.
 */

export interface CallInfo {
  cli?: string;
  did?: string;
  callId?: string;
  digits?: string;
  /** What the caller said, as the platform recognised it (docs/http.md §10). */
  speech?: string;
}

const CLI_NAMES = ['$call.cli.number', 'call.cli.number', 'cli', 'from', 'callfrom', 'caller_id_number'];
const DID_NAMES = ['$call.did.number', 'call.did.number', 'did', 'to', 'callto'];
const CALL_ID_NAMES = ['$call.id', 'call.id', 'callsid', 'calluuid'];
/** Twilio and TeXML post the transcript as `SpeechResult`, Plivo's GetInput as `Speech`. */
const SPEECH_NAMES = ['speechresult', 'speech'];
const MAX_DEPTH = 4;

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function flatten(into: Map<string, string>, prefix: string, value: unknown, depth: number): void {
  if (Array.isArray(value)) {
    // A repeated field: the first value is the one the platform meant.
    if (value.length) flatten(into, prefix, value[0], depth);
    return;
  }
  if (value !== null && typeof value === 'object') {
    if (depth >= MAX_DEPTH) return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(into, prefix ? `${prefix}.${k}` : k, v, depth + 1);
    return;
  }
  const s = scalar(value);
  const name = prefix.toLowerCase();
  if (s !== undefined && !into.has(name)) into.set(name, s);
}

function firstPresent(fields: Map<string, string>, names: string[]): string | undefined {
  for (const n of names) {
    const v = fields.get(n)?.trim();
    if (v) return v;
  }
  return undefined;
}

/** Exotel wraps digits in double quotes (`"1"`). */
function unwrapDigits(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().replace(/^"(.*)"$/, '$1').trim();
  return s === '' ? undefined : s;
}

export function readCall(req: Request, res: Response): CallInfo {
  // docs/http.md §7.1: with signatures configured, only what the signature covers (ivr.signature.middleware.ts).
  if (res.locals.signedCall) {
    const { callId, cli, did, digits, speech } = res.locals.signedCall;
    return { callId, cli, did, digits, speech };
  }
  const body = new Map<string, string>();
  const input = res.locals.input;
  if (input) {
    if (Array.isArray(input.fields)) for (const [k, v] of input.fields) flatten(body, k, v, 0);
    else flatten(body, '', input.fields, 0);
  }
  const fields = new Map(body);
  for (const [k, v] of queryPairs(req)) if (!fields.has(k.toLowerCase())) fields.set(k.toLowerCase(), v);
  return {
    cli: firstPresent(fields, CLI_NAMES),
    did: firstPresent(fields, DID_NAMES),
    callId: firstPresent(fields, CALL_ID_NAMES),
    digits: unwrapDigits(fields.get('digits')),
    speech: firstPresent(fields, SPEECH_NAMES),
  };
}
