import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';

/**
 * Render a reply object as `<response>` (CONTRACT 1.3): one child element per field, nested
 * objects as nested elements, arrays as repeated `<item>`, booleans as true/false, null as an
 * empty element. A field whose name is not a valid XML element name (e.g. `$flow.key.city`, or a
 * user key starting with a digit) is written as `<entry name="…">` so no data is lost.
 */

const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

export function renderXml(data: Record<string, unknown>, rootName = 'response'): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const root = doc.ele(rootName);
  appendFields(root, data);
  return doc.end({ headless: false });
}

/** Render a list as `<response>` holding one `<item>` per element (CONTRACT 1.3: arrays as repeated `<item>`). */
export function renderXmlList(items: unknown[], rootName = 'response'): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  appendValue(doc.ele(rootName), items);
  return doc.end({ headless: false });
}

function appendFields(parent: XMLBuilder, obj: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const el = XML_NAME.test(name) && !/^xml/i.test(name) ? parent.ele(name) : parent.ele('entry', { name });
    appendValue(el, value);
  }
}

function appendValue(el: XMLBuilder, value: unknown): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) appendValue(el.ele('item'), item);
  } else if (value instanceof Date) {
    el.txt(value.toISOString());
  } else if (typeof value === 'object') {
    appendFields(el, value as Record<string, unknown>);
  } else {
    el.txt(String(value));
  }
}
