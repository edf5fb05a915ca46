import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError, quote } from '../http/errors.js';

/**
 * Safe parsing of untrusted XML (see DESIGN.md, "Untrusted XML"): the caller has already
 * bounded the size; here we refuse DOCTYPEs (so no entity is ever defined or fetched), validate
 * well-formedness (the parser alone accepts truncated documents), and parse with a nesting limit.
 *
 * The tree: an element with only text is its trimmed text; an element with children or attributes
 * is an object (attributes as `@name`, text as `#text`); repeated siblings are arrays.
 * Namespace prefixes are dropped. Values are never type-converted. The five XML entities and
 * numeric character references (`&#2361;`, `&#x939;`) are decoded, CDATA is plain text.
 *
 * An element named like an Object.prototype member (`__proto__`, `constructor`, `toString`…) is
 * stored under `#name` (a key no XML name can produce), so it can never reach a prototype and the
 * parser never refuses it; `elementName`/`treeKey` translate, and every reader of the tree
 * (`xmlToParams`, the mapping paths in ./paths.ts) goes through them.
 */

export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export const ATTRIBUTE_PREFIX = '@';
export const TEXT_KEY = '#text';
const MAX_DEPTH = 100;

const RESERVED_NAMES = new Set([
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable',
  'toString', 'toLocaleString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__',
  '__lookupSetter__',
]);

/** The key under which the tree stores the element `name`. */
export function treeKey(name: string): string {
  return RESERVED_NAMES.has(name) ? `#${name}` : name;
}

/** The element name a tree key stands for (inverse of `treeKey`). */
export function elementName(key: string): string {
  return key.startsWith('#') && RESERVED_NAMES.has(key.slice(1)) ? key.slice(1) : key;
}

/**
 * Only the XML entities by name. fast-xml-parser 5.12 takes a table here (its typings say
 * boolean): the table replaces its HTML entity set, and any truthy value turns on numeric
 * character references, which it otherwise leaves undecoded.
 */
const XML_ENTITIES = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' } as unknown as boolean;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  textNodeName: TEXT_KEY,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
  htmlEntities: XML_ENTITIES,
  transformTagName: treeKey,
  // The parser trims text but not CDATA sections; one rule for both: text is trimmed.
  tagValueProcessor: (_name: string, value: string) => value.trim(),
});

/** `&name;` other than the five predefined entities and character references (outside CDATA). */
const UNDEFINED_ENTITY = /&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/;
const CDATA_OR_COMMENT = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode bytes as strict UTF-8; invalid sequences are an XML error, not replacement characters. */
export function decodeXmlBytes(bytes: Uint8Array): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new AppError('INVALID_XML', 'XML body is not valid UTF-8');
  }
}

/**
 * Parse an XML document into `{rootName: tree}`. Throws AppError INVALID_XML (or 415 for a
 * non-UTF-8 declaration). `text: true` says the document is already text (e.g. a third-party
 * response pasted into a JSON string), so its encoding declaration no longer describes any bytes.
 */
export function parseXml(text: string, opts: { text?: boolean } = {}): XmlObject {
  if (/<!DOCTYPE/i.test(text)) {
    throw new AppError('INVALID_XML', 'XML with a DOCTYPE is not accepted');
  }
  const decl = opts.text ? null : /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(text);
  if (decl && !/^(utf-?8|us-ascii)$/i.test(decl[1]!)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'XML must be encoded as UTF-8');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new AppError('INVALID_XML', `malformed XML at line ${valid.err.line}: ${quote(valid.err.msg)}`);
  }
  if (UNDEFINED_ENTITY.test(text.replace(CDATA_OR_COMMENT, ''))) {
    throw new AppError('INVALID_XML', 'XML refers to an undefined entity or has a bare &');
  }
  let tree: unknown;
  try {
    tree = parser.parse(text);
  } catch {
    throw new AppError('INVALID_XML', `XML cannot be parsed (at most ${MAX_DEPTH} levels of nesting are accepted)`);
  }
  if (!isXmlObject(tree) || Object.keys(tree).length !== 1) {
    throw new AppError('INVALID_XML', 'XML must have exactly one root element');
  }
  return tree;
}

export function isXmlObject(v: unknown): v is XmlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of an element: its own text, or '' when it has only attributes or is empty. */
export function textOf(v: XmlValue): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return undefined;
  const t = v[TEXT_KEY];
  return typeof t === 'string' ? t : Object.keys(v).every((k) => k.startsWith(ATTRIBUTE_PREFIX)) ? '' : undefined;
}

/**
 * Turn an element's children into request parameters (docs/http.md §1.1): each child element is a
 * parameter, nested elements objects, repeated siblings arrays; attributes are not parameters.
 */
export function xmlToParams(root: XmlValue): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  if (!isXmlObject(root)) return out;
  for (const [name, value] of Object.entries(root)) {
    if (name.startsWith(ATTRIBUTE_PREFIX) || name === TEXT_KEY) continue;
    out[elementName(name)] = elementValue(value);
  }
  return out;
}

function elementValue(v: XmlValue): unknown {
  if (Array.isArray(v)) return v.map(elementValue);
  if (typeof v === 'string') return v;
  const hasChildren = Object.keys(v).some((k) => !k.startsWith(ATTRIBUTE_PREFIX) && k !== TEXT_KEY);
  return hasChildren ? xmlToParams(v) : (textOf(v) ?? '');
}
