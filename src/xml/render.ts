import { XMLBuilder } from 'fast-xml-parser';

/**
 * Render a reply object as `<response>` (docs/http.md §1.3): one child element per field, nested
 * objects as nested elements, arrays as repeated `<item>`, booleans as true/false, null as an
 * empty element. A field whose name is not a valid XML element name (e.g. `$flow.key.city`, or a
 * user key starting with a digit) is written as `<entry name="…">` so no data is lost.
 *
 * Built with fast-xml-parser's XMLBuilder in its ordered form (field order is kept, repeated
 * `<entry>`s stay where their fields were). It replaced xmlbuilder2 here, which builds a DOM per
 * reply and cost about 4× as much, keeping XML replies from the ≥ 0.8× JSON goal (see
 * bench/scenarios/xml.ts). Text is escaped here (`&`, `<`, `>`; attributes also `"`), and
 * characters XML 1.0 cannot carry (NUL, ESC, lone surrogates…) are dropped, as xmlbuilder2's
 * `invalidCharReplacement: ''` did; an empty string renders like null, as an empty element.
 */

const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  processEntities: false,
  suppressEmptyNode: true,
  format: false,
});

type Node = Record<string, unknown>;

export function renderXml(data: Record<string, unknown>, rootName = 'response'): string {
  return DECLARATION + builder.build([{ [rootName]: fields(data) }]);
}

/** Render a list as `<response>` holding one `<item>` per element (docs/http.md §1.3: arrays as repeated `<item>`). */
export function renderXmlList(items: unknown[], rootName = 'response'): string {
  return DECLARATION + builder.build([{ [rootName]: content(items) }]);
}

function fields(obj: Record<string, unknown>): Node[] {
  const out: Node[] = [];
  for (const [name, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (XML_NAME.test(name) && !/^xml/i.test(name)) out.push({ [name]: content(value) });
    else out.push({ entry: content(value), ':@': { '@name': escapeAttribute(name) } });
  }
  return out;
}

function content(value: unknown): Node[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => ({ item: content(v) }));
  if (value instanceof Date) return [{ '#text': value.toISOString() }];
  if (typeof value === 'object') return fields(value as Record<string, unknown>);
  return [{ '#text': escapeText(String(value)) }];
}

function escapeText(s: string): string {
  return s.replace(NOT_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}
