import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { XML_DECLARATION, attr, element, text, xmlChars } from '../../src/ivr/xml.writer.js';

/**
 * The IVR's string-built XML (docs/http.md §4): escaping of text and attributes, and dropping of
 * what XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets). Judged by fast-xml-parser and
 * by libxml2's xmllint (never with --noent).
 */

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, trimValues: false, parseTagValue: false, parseAttributeValue: false });
const doc = (s: string, a: string) => XML_DECLARATION + element('Response', [], element('Say', [['voice', a]], text(s)));

describe('XML writer', () => {
  it('when text and attributes hold markup characters, then they are escaped', () => {
    expect(text(`<Ravi & "Sons"> 'x'`)).toBe(`&lt;Ravi &amp; "Sons"&gt; 'x'`);
    expect(attr(`a"b<c>&d\te\nf\rg`)).toBe('a&quot;b&lt;c&gt;&amp;d&#9;e&#10;f&#13;g');
    expect(element('Hangup', [])).toBe('<Hangup/>');
    expect(element('Say', [['language', 'en-IN'], ['voice', undefined]], 'hi')).toBe('<Say language="en-IN">hi</Say>');
  });

  it('when text holds characters XML cannot carry, then they are dropped and the rest kept', () => {
    const nasty = `a\u0000b\u0001c\u0008d\u000Be\u000Cf\u001Bg\u001Fh\uFFFEi\uFFFFj\uD800k\uDC00l`;
    expect(xmlChars(nasty)).toBe('abcdefghijkl');
    expect(text('tab\tnl\ncr\r')).toBe('tab\tnl\ncr\r');
    // Astral characters (emoji, a Devanagari name) and a proper surrogate pair are kept.
    expect(text('नमस्ते 😀 \uD83D\uDE00')).toBe('नमस्ते 😀 😀');
  });

  it('when any string is written as text and as an attribute, then the document is well-formed and reads back as the string minus what XML cannot carry', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), (s, a) => {
        const xml = doc(s, a);
        expect(XMLValidator.validate(xml)).toBe(true);
        const say = parser.parse(xml).Response.Say;
        const body = typeof say === 'string' ? say : (say['#text'] ?? '');
        expect(body).toBe(xmlChars(s).replace(/\r\n?/g, '\n'));
        expect(typeof say === 'string' ? '' : say.voice).toBe(xmlChars(a));
      }),
      { numRuns: 500, seed: 1414 },
    );
  });

  it('when a document with every hostile character is checked by xmllint, then it is well-formed', () => {
    const all = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i)).join('') + '\uD800\uFFFE\uFFFF"\'<>&';
    const xml = doc(all, all);
    expect(() => execFileSync('xmllint', ['--noout', '-'], { input: xml, stdio: ['pipe', 'pipe', 'pipe'] })).not.toThrow();
  });
});
