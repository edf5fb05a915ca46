import { AppError, invalid, missing, quote } from '../http/errors.js';
import { normalizePhone } from '../phone.js';

/** createOutbound's `contactNumbers` (docs/http.md §2.3) turned into distinct E.164 numbers. */

export const MAX_CONTACTS = 1000;
const FIELD = 'contactNumbers';

/**
 * Accepts a JSON array (or repeated XML elements, or `<contactNumbers><item>…</item></contactNumbers>`)
 * of numbers, or one string split on `,`, `;` and line breaks. Spaces, dashes, dots and brackets
 * inside a piece are formatting, so `91997974 6666` is one number. Every invalid piece is listed in
 * `error.invalid`; duplicates (after normalisation) count once, first spelling first.
 */
export function parseContactNumbers(raw: unknown, region: string): string[] {
  const pieces = splitPieces(raw);
  if (pieces.length === 0) throw missing(FIELD);
  const numbers: string[] = [];
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const piece of pieces) {
    const e164 = typeof piece === 'string' ? normalizePhone(piece, region) : undefined;
    if (e164 === undefined) {
      // Each listed as given, up to 64 characters (docs/http.md §7.4).
      bad.push(quote(typeof piece === 'string' ? piece : JSON.stringify(piece)));
      continue;
    }
    if (!seen.has(e164)) {
      seen.add(e164);
      numbers.push(e164);
    }
  }
  if (bad.length > 0) {
    throw new AppError(
      'INVALID_PARAMETER',
      `${bad.length} contact number${bad.length === 1 ? ' is' : 's are'} not valid`,
      FIELD,
      { invalid: bad },
    );
  }
  if (numbers.length > MAX_CONTACTS) {
    throw invalid(FIELD, `at most ${MAX_CONTACTS} distinct numbers per request (got ${numbers.length})`);
  }
  return numbers;
}

/** The pieces as given (trimmed, empties dropped); a non-text element stays as is to be reported. */
function splitPieces(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return splitText(raw);
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? [String(raw)] : [raw];
  if (Array.isArray(raw)) {
    return raw.flatMap((v) => {
      if (typeof v === 'string') return v.trim() === '' ? [] : [v.trim()];
      if (typeof v === 'number' && Number.isSafeInteger(v)) return [String(v)];
      return [v];
    });
  }
  // XML rendered the way replies render arrays: <contactNumbers><item>…</item>…</contactNumbers>.
  if (typeof raw === 'object') {
    const entries = Object.entries(raw);
    if (entries.length === 1 && entries[0]![0] === 'item') return splitPieces(([] as unknown[]).concat(entries[0]![1]));
  }
  throw invalid(FIELD, `${FIELD} must be a list of phone numbers or one text of numbers separated by , ; or line breaks`);
}

function splitText(text: string): string[] {
  return text
    .split(/[,;\r\n\u2028\u2029]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
