import { AppError } from './errors.js';

/** docs/http.md §7.4: JSON nested deeper than this is refused before it is parsed. */
export const MAX_JSON_DEPTH = 100;

/**
 * Whether JSON text opens more than `max` arrays/objects inside each other. One pass over the
 * text, skipping strings, so the check costs no more than the parse it protects.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** JSON.parse with the depth bound; `what` names the text in the error (`body`, `document`). */
export function parseJson(text: string, what: string, field?: string): unknown {
  // Deeper than MAX_JSON_DEPTH takes more opening brackets than a shorter text has characters.
  if (text.length > MAX_JSON_DEPTH && jsonTooDeep(text)) throw new AppError('INVALID_JSON', `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`, field);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('INVALID_JSON', `${what} is not valid JSON`, field);
  }
}
