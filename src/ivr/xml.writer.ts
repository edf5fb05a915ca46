/**
 * The IVR's XML writer (docs/http.md §4): replies are short and flat, so they are built as
 * strings, without a DOM. Everything that reaches the output passes `text` or `attr` here:
 * `&`, `<`, `>` are escaped (in attributes also `"`, and tab, CR and LF as character references so
 * a parser does not fold them into spaces), and characters XML 1.0 cannot carry at all (NUL, ESC
 * and the other C0 controls, U+FFFE/U+FFFF, lone surrogates) are dropped.
 */

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Not a character of XML 1.0 (https://www.w3.org/TR/xml/#charsets). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/** Cheap first look (no `u` flag): anything outside the plain ranges, surrogates included. */
const MAYBE_NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/;
/** One scan that says whether a string needs any work at all (the common case: none). */
const TEXT_WORK = /[&<>\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const ATTR_WORK = /[&<>"\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const TEXT_SPECIAL = /[&<>]/g;
const ATTR_SPECIAL = /[&<>"\t\n\r]/g;

/** Drop what XML cannot carry. */
export function xmlChars(s: string): string {
  return MAYBE_NOT_XML.test(s) ? s.replace(NOT_XML, '') : s;
}

export function text(s: string): string {
  return TEXT_WORK.test(s) ? xmlChars(s).replace(TEXT_SPECIAL, (c) => TEXT_ESCAPES[c]!) : s;
}

export function attr(s: string): string {
  return ATTR_WORK.test(s) ? xmlChars(s).replace(ATTR_SPECIAL, (c) => ATTR_ESCAPES[c]!) : s;
}

/** Attributes in order; an undefined value leaves the attribute out. */
export type Attrs = readonly (readonly [name: string, value: string | number | undefined])[];

/** One element: `<tag a="…">children</tag>`, or `<tag a="…"/>` without children. Names are the code's own, never input. */
export function element(tag: string, attrs: Attrs, children = ''): string {
  let open = `<${tag}`;
  for (const [name, value] of attrs) if (value !== undefined) open += ` ${name}="${attr(String(value))}"`;
  return children === '' ? `${open}/>` : `${open}>${children}</${tag}>`;
}
