import { ATTRIBUTE_PREFIX, TEXT_KEY, treeKey } from './parse.js';
import { quote } from '../http/errors.js';

/**
 * The mapping path engine (docs/http.md §5): one set of rules that reads a value out of an XML tree
 * (as built by ./parse.ts) or a JSON document.
 *
 *   Envelope.Body.Result.Code      dotted names from the root; for XML the root element's name is
 *                                  the first segment, for JSON the first segment is a member of
 *                                  the top-level object
 *   items.item[1].name             `[n]` picks the n-th (0-based) of repeated siblings (a JSON
 *                                  array); a single element is its own `[0]`; a repeated element
 *                                  named without `[n]` means its first occurrence
 *   Response.Gather.@action        a last segment `@name` reads an attribute (JSON: the member
 *                                  `@name`, else `name`)
 *   soap:Envelope.soap:Body        namespace prefixes are ignored, in the path and the document
 *   response.key.2fa               a field this service's replies write `<entry name="2fa">`
 *   response.obdReqID              on a JSON reply of this service (no `response` member), the
 *                                  leading `response` is skipped: one mapping for both formats
 *
 * The value is text: an element's trimmed text ('' for an empty element or one with only
 * attributes), a JSON string as is, numbers and booleans as JSON writes them. A path that leads
 * nowhere, or to something that is not text (an element with child elements, a JSON object,
 * array or null), has no value (null).
 */

export interface PathSegment {
  /** Element or member name, namespace prefix removed. */
  name: string;
  /** The name as written, for JSON members whose names contain a colon. */
  written: string;
  /** `[n]` selectors in order (JSON arrays of arrays may have more than one). */
  indexes: number[];
  /** True for a final `@name` segment. */
  attribute: boolean;
}

export type DocumentKind = 'xml' | 'json';

export interface MappedDocument {
  kind: DocumentKind;
  /** XML: `{rootName: tree}` from parseXml; JSON: the parsed value. */
  root: unknown;
}

export class PathError extends Error {}

const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENTS = 64;
const MAX_INDEX = 1_000_000;
/**
 * A name: letters, digits, `_`, `-`, `$` and a namespace `:` (not first or last), so an XPath-like
 * `/a/b` or a wildcard is refused with a reason instead of silently finding nothing.
 */
const NAME = /^[\p{L}\p{N}_$][\p{L}\p{M}\p{N}_$:-]*$/u;
const NAME_RULE = 'names use letters, digits, _ - $ and a namespace prefix (ns:name), separated by dots, e.g. Envelope.Body.Code';
const INDEX = /\[(\d{1,7})\]/y;

/** Parse a path; throws PathError with a message saying what is wrong. */
export function parsePath(path: string): PathSegment[] {
  if (path.trim() === '') throw new PathError('the path is empty');
  if (path.length > MAX_PATH_LENGTH) throw new PathError(`the path is longer than ${MAX_PATH_LENGTH} characters`);
  const parts = path.trim().split('.');
  if (parts.length > MAX_SEGMENTS) throw new PathError(`the path has more than ${MAX_SEGMENTS} segments`);
  return parts.map((part, i) => parseSegment(part, i === parts.length - 1));
}

function parseSegment(part: string, last: boolean): PathSegment {
  if (part === '') throw new PathError('the path has an empty segment (two dots, or a dot at an end)');
  if (part.startsWith(ATTRIBUTE_PREFIX)) {
    if (!last) throw new PathError(`"${quote(part)}": an attribute (@name) can only be the last segment`);
    const written = part.slice(1);
    if (!validName(written)) throw new PathError(`"${quote(part)}" is not a valid attribute name; ${NAME_RULE}`);
    return { name: localName(written), written, indexes: [], attribute: true };
  }
  const bracket = part.indexOf('[');
  const written = bracket === -1 ? part : part.slice(0, bracket);
  if (!validName(written)) throw new PathError(`"${quote(part)}" is not a valid name; ${NAME_RULE}`);
  const indexes: number[] = [];
  let at = written.length;
  while (at < part.length) {
    INDEX.lastIndex = at;
    const m = INDEX.exec(part);
    if (!m) throw new PathError(`"${quote(part)}": an index must be [n] with n a whole number from 0`);
    const n = Number(m[1]);
    if (n >= MAX_INDEX) throw new PathError(`"${quote(part)}": an index must be below ${MAX_INDEX}`);
    indexes.push(n);
    at = INDEX.lastIndex;
  }
  return { name: localName(written), written, indexes, attribute: false };
}

function validName(name: string): boolean {
  return NAME.test(name) && !name.endsWith(':');
}

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** The text at `path` in the document, or null when there is none. */
export function readPath(doc: MappedDocument, path: PathSegment[]): string | null {
  return walk(doc, doc.root, replyPath(doc, path));
}

/**
 * This service's replies are `<response>…</response>` in XML and a bare object in JSON. On a JSON
 * document without a `response` member, a leading `response` segment (without index) is
 * skipped, so one mapping (`response.obdReqID`) reads a reply in either format.
 */
function replyPath(doc: MappedDocument, path: PathSegment[]): PathSegment[] {
  const first = path[0];
  if (doc.kind !== 'json' || path.length < 2 || first?.written !== REPLY_ROOT || first.indexes.length > 0) return path;
  const root = Array.isArray(doc.root) ? doc.root[0] : doc.root;
  return isObject(root) && memberOf('json', root, first) === undefined ? path.slice(1) : path;
}

const REPLY_ROOT = 'response';

function walk(doc: MappedDocument, start: unknown, path: PathSegment[]): string | null {
  let node = start;
  for (const seg of path) {
    if (Array.isArray(node)) node = node[0];
    if (!isObject(node)) return null;
    if (seg.attribute) return scalarText(attributeOf(doc.kind, node, seg), doc.kind);
    node = memberOf(doc.kind, node, seg);
    for (const i of seg.indexes) node = Array.isArray(node) ? node[i] : i === 0 ? node : undefined;
  }
  return valueText(node, doc.kind);
}

function memberOf(kind: DocumentKind, node: Record<string, unknown>, seg: PathSegment): unknown {
  if (kind === 'xml') return own(node, treeKey(seg.name)) ?? namedEntry(node, seg.written);
  // JSON member names are free text: the name as written first, then by local name.
  const exact = own(node, seg.written);
  if (exact !== undefined) return exact;
  const key = byLocalName(node).get(seg.name);
  return key === undefined ? undefined : node[key];
}

/*
 * Lookups that would scan a node's members are answered from an index built once per node, so a
 * preview costs the document's size plus the number of path segments, not their product
 * (docs/http.md §7.4). The indexes live as long as the parsed document.
 */
const localNameIndex = new WeakMap<object, Map<string, string>>();
const entryIndex = new WeakMap<object, Map<string, unknown>>();

/** A JSON object's first member for each local name (`soap:Body` → `Body`). */
function byLocalName(node: Record<string, unknown>): Map<string, string> {
  let index = localNameIndex.get(node);
  if (!index) {
    index = new Map();
    for (const key of Object.keys(node)) {
      const name = localName(key);
      if (!index.has(name)) index.set(name, key);
    }
    localNameIndex.set(node, index);
  }
  return index;
}

/**
 * This service's XML replies write a field whose name is not an XML name (a user key `2fa`) as
 * `<entry name="2fa">`; a path naming the field finds it there (the first such entry).
 */
function namedEntry(node: Record<string, unknown>, name: string): unknown {
  let index = entryIndex.get(node);
  if (!index) {
    index = new Map();
    const entries = own(node, 'entry');
    for (const e of Array.isArray(entries) ? entries : [entries]) {
      const entryName = isObject(e) ? own(e, `${ATTRIBUTE_PREFIX}name`) : undefined;
      if (typeof entryName !== 'string' || index.has(entryName)) continue;
      const { [`${ATTRIBUTE_PREFIX}name`]: _name, ...rest } = e as Record<string, unknown>;
      index.set(entryName, Object.keys(rest).length === 0 ? '' : rest);
    }
    entryIndex.set(node, index);
  }
  return index.get(name);
}

function attributeOf(kind: DocumentKind, node: Record<string, unknown>, seg: PathSegment): unknown {
  const attr = own(node, ATTRIBUTE_PREFIX + seg.name);
  if (attr !== undefined || kind === 'xml') return attr;
  return own(node, ATTRIBUTE_PREFIX + seg.written) ?? memberOf(kind, node, seg);
}

function valueText(node: unknown, kind: DocumentKind): string | null {
  if (Array.isArray(node)) return valueText(node[0], kind);
  if (!isObject(node)) return scalarText(node, kind);
  // An element with attributes: its text, or '' when it has no text and no child elements.
  const text = own(node, TEXT_KEY);
  if (typeof text === 'string') return text;
  const keys = Object.keys(node);
  return keys.length > 0 && keys.every((k) => k.startsWith(ATTRIBUTE_PREFIX)) ? '' : null;
}

function scalarText(v: unknown, kind: DocumentKind): string | null {
  if (typeof v === 'string') return v;
  if (kind === 'json' && (typeof v === 'number' || typeof v === 'boolean')) return String(v);
  return null;
}

function own(node: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
