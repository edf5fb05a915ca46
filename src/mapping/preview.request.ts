import { invalid, missing, quote } from '../http/errors.js';
import { jsonTooDeep } from '../http/json.js';
import type { RequestInput } from '../http/body.js';
import { ATTRIBUTE_PREFIX, TEXT_KEY, elementName, isXmlObject, textOf, type XmlValue } from '../xml/parse.js';
import type { MappedDocument } from '../xml/paths.js';

/**
 * What a `/mapping/preview` request asks for, from any body type:
 * - JSON `{"document": "<text>" | {…}, "mapping": {"$flow.key.X": "path", …}}` (the contract's
 *   form; a document given as a JSON object or array is used as the JSON document itself);
 * - form fields `document=<text>` and `mapping=<JSON object text>`;
 * - XML `<preview><document>…</document><mapping><entry name="$flow.key.X">path</entry>…
 *   </mapping></preview>`, where the document is escaped text or CDATA, or written inline as the
 *   one child element of `<document>`; a mapping element whose name is itself the variable
 *   (`<city>path</city>`) works too. `<entry name="…">` is how replies write such names.
 */
export interface PreviewRequest {
  /** Document text still to be parsed (after the paths are checked), or an already-read tree. */
  document: string | MappedDocument;
  mapping: [string, unknown][];
}

export function readPreviewRequest(input: RequestInput | undefined): PreviewRequest {
  switch (input?.kind) {
    case 'json':
      return fromJson(input.fields as Record<string, unknown>);
    case 'form':
      return fromForm(input.fields as [string, string][]);
    case 'xml':
      return fromXml(Object.values(input.xml ?? {})[0]);
    default:
      throw missing('document');
  }
}

function fromJson(fields: Record<string, unknown>): PreviewRequest {
  const doc = own(fields, 'document');
  const mapping = own(fields, 'mapping');
  let document: string | MappedDocument;
  if (typeof doc === 'string') document = documentText(doc);
  else if (typeof doc === 'object' && doc !== null) document = { kind: 'json', root: doc };
  else if (doc === undefined || doc === null) throw missing('document');
  else throw invalid('document', 'document must be the XML or JSON text of the response');
  if (mapping === undefined || mapping === null) throw missing('mapping');
  if (typeof mapping !== 'object' || Array.isArray(mapping)) {
    throw invalid('mapping', 'mapping must be an object of flow variable → path');
  }
  return { document, mapping: Object.entries(mapping) };
}

function fromForm(fields: [string, string][]): PreviewRequest {
  const one = (name: string): string => {
    const values = fields.filter(([k]) => k === name).map(([, v]) => v);
    if (values.length > 1) throw invalid(name, `${name} was given more than once`);
    if (values.length === 0 || values[0]!.trim() === '') throw missing(name);
    return values[0]!;
  };
  const document = documentText(one('document'));
  const text = one('mapping');
  let mapping: unknown;
  try {
    mapping = jsonTooDeep(text) ? undefined : JSON.parse(text);
  } catch {
    mapping = undefined;
  }
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
    throw invalid('mapping', 'mapping must be a JSON object of flow variable → path');
  }
  return { document, mapping: Object.entries(mapping) };
}

function fromXml(root: XmlValue | undefined): PreviewRequest {
  const docNode = isXmlObject(root) ? root['document'] : undefined;
  const mapNode = isXmlObject(root) ? root['mapping'] : undefined;
  if (docNode === undefined) throw missing('document');
  if (Array.isArray(docNode)) throw invalid('document', 'document was given more than once');
  const inline = inlineDocument(docNode);
  const document = inline ?? documentText(textOf(docNode) ?? '');
  if (mapNode === undefined) throw missing('mapping');
  if (Array.isArray(mapNode)) throw invalid('mapping', 'mapping was given more than once');
  return { document, mapping: xmlMapping(mapNode) };
}

/** `<document><soap:Envelope>…</soap:Envelope></document>`: the one child element is the root. */
function inlineDocument(node: XmlValue): MappedDocument | undefined {
  if (!isXmlObject(node)) return undefined;
  const children = Object.keys(node).filter((k) => !k.startsWith(ATTRIBUTE_PREFIX) && k !== TEXT_KEY);
  if (children.length === 0) return undefined;
  const child = children[0]!;
  if (children.length > 1 || Array.isArray(node[child]) || node[TEXT_KEY] !== undefined) {
    throw invalid('document', 'document must hold one root element, or the document as text');
  }
  return { kind: 'xml', root: { [child]: node[child]! } };
}

function xmlMapping(node: XmlValue): [string, unknown][] {
  if (!isXmlObject(node)) return [];
  const out = new Map<string, unknown>();
  const add = (variable: string, el: XmlValue) => {
    if (out.has(variable)) throw invalid(variable, `${quote(variable)} is mapped more than once`);
    out.set(variable, textOf(el) ?? null);
  };
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith(ATTRIBUTE_PREFIX) || key === TEXT_KEY) continue;
    for (const el of Array.isArray(value) ? value : [value]) {
      const named = key === 'entry' && isXmlObject(el) ? el[`${ATTRIBUTE_PREFIX}name`] : undefined;
      add(typeof named === 'string' ? named : elementName(key), el);
    }
  }
  return [...out];
}

function documentText(text: string): string {
  if (text.trim() === '') throw missing('document');
  return text;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
