import { AppError, invalid, quote } from '../http/errors.js';
import { parseJson } from '../http/json.js';
import { parseXml } from '../xml/parse.js';
import { parsePath, PathError, readPath, type MappedDocument, type PathSegment } from '../xml/paths.js';

/**
 * Response mapping preview (docs/http.md §5): parse a third-party document (XML or JSON) and read
 * each flow variable's path out of it with the engine in src/xml/paths.ts.
 */

export interface PreviewResult {
  variables: Record<string, string | null>;
  missing: string[];
}

/**
 * A document given as text: XML when its first non-blank character is `<`, JSON otherwise.
 * Parse failures are INVALID_XML / INVALID_JSON. The encoding declaration of pasted XML is
 * ignored: the text is already decoded.
 */
export function parseDocument(text: string): MappedDocument {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('<')) {
    try {
      return { kind: 'xml', root: parseXml(body, { text: true }) };
    } catch (e) {
      if (e instanceof AppError) throw new AppError(e.code, `document: ${e.message}`, 'document');
      throw e;
    }
  }
  return { kind: 'json', root: parseJson(body, 'document (an XML document must start with "<")', 'document') };
}

/** docs/http.md §7.4: at most this many variables in one preview. */
export const MAX_MAPPING_ENTRIES = 200;

/** Check every path before reading any: a malformed one is a 400 naming its variable. */
export function compileMapping(mapping: [string, unknown][]): [string, PathSegment[]][] {
  if (mapping.length > MAX_MAPPING_ENTRIES) throw invalid('mapping', `mapping has more than ${MAX_MAPPING_ENTRIES} entries`);
  return mapping.map(([variable, path]) => {
    if (variable.trim() === '') throw invalid('mapping', 'a variable name in mapping is empty');
    if (typeof path !== 'string') throw invalid(variable, `the path of ${quote(variable)} must be a string`);
    try {
      return [variable, parsePath(path)];
    } catch (e) {
      if (e instanceof PathError) throw invalid(variable, `the path of ${quote(variable)} is malformed: ${e.message}`);
      throw e;
    }
  });
}

export function previewMapping(doc: MappedDocument, mapping: [string, PathSegment[]][]): PreviewResult {
  const variables: Record<string, string | null> = Object.create(null);
  const missing: string[] = [];
  for (const [variable, path] of mapping) {
    const value = readPath(doc, path);
    variables[variable] = value;
    if (value === null) missing.push(variable);
  }
  return { variables, missing };
}
