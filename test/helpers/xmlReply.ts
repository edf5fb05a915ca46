import { XMLParser } from 'fast-xml-parser';

/**
 * Turn an XML reply (`<response>…</response>`, docs/http.md §1.3) back into the JSON it stands for,
 * so tests can compare the two formats: an element whose children are all `<item>` is an array,
 * `<entry name="k">` is the member `k`, `true`/`false` are booleans, an empty element is null,
 * other text stays a string.
 *
 * XML cannot carry everything JSON can, so a JSON reply is compared through `comparable()`, which
 * applies the same losses: numbers become their decimal text, `""`, `[]` and `{}` become null
 * (all render as an empty element), and the strings "true"/"false" become booleans. One more
 * ambiguity is not resolved: an object whose only member is named `item` reads back as an array.
 */

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => name === 'item' || name === 'entry',
});

export type Json = null | boolean | string | Json[] | { [k: string]: Json };

export function parseXmlReply(text: string): Record<string, Json> {
  if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) throw new Error('reply lacks the XML declaration');
  const doc = parser.parse(text) as Record<string, unknown>;
  const keys = Object.keys(doc).filter((k) => !k.startsWith('?'));
  if (keys.length !== 1 || keys[0] !== 'response') throw new Error(`root must be <response>, got ${keys.join(',')}`);
  const body = toJson(doc.response);
  return body === null ? {} : (body as Record<string, Json>);
}

function toJson(node: unknown): Json {
  if (node === '' || node === undefined || node === null) return null;
  if (typeof node === 'string') return node === 'true' ? true : node === 'false' ? false : node;
  if (Array.isArray(node)) throw new Error('unexpected repeated element outside <item>/<entry>');
  const obj = node as Record<string, unknown>;
  const names = Object.keys(obj).filter((k) => !k.startsWith('@'));
  if (names.length === 0) return null;
  if (names.length === 1 && names[0] === 'item') return (obj.item as unknown[]).map(toJson);
  if (names.length === 1 && names[0] === '#text') return toJson(obj['#text']);
  const out: Record<string, Json> = {};
  for (const name of names) {
    if (name === 'entry') {
      for (const e of obj.entry as Record<string, unknown>[]) {
        const { '@name': key, ...rest } = typeof e === 'object' && e !== null ? e : { '#text': e };
        out[String(key)] = toJson(Object.keys(rest).length === 0 ? '' : rest);
      }
    } else if (name === 'item') {
      out.item = (obj.item as unknown[]).length === 1 ? toJson((obj.item as unknown[])[0]) : (obj.item as unknown[]).map(toJson);
    } else {
      out[name] = toJson(obj[name]);
    }
  }
  return out;
}

/** A JSON reply with the losses of the XML rendering applied (see above). */
export function comparable(value: unknown): Json {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === 'true' ? true : value === 'false' ? false : value;
  if (Array.isArray(value)) return value.length === 0 ? null : value.map(comparable);
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  return Object.fromEntries(entries.map(([k, v]) => [k, comparable(v)]));
}
