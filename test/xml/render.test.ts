import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderXml, renderXmlList } from '../../src/xml/render.js';
import { comparable, parseXmlReply } from '../helpers/xmlReply.js';

const ordered = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '' });

describe('XML replies', () => {
  it('when a reply holds markup characters, control characters and odd names, then the XML is well formed and reads back the same', () => {
    const data = {
      text: 'a <b> & "c" \'d\' ]]> e',
      ctrl: 'x\u0000y\u001bz\uFFFE',
      '$flow.key.a"b<c&': 'v',
      hindi: 'नमस्ते 😀',
      list: [1, { a: true }, null],
      nested: { deeper: { n: -2.5 } },
    };
    const xml = renderXml(data);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><response>')).toBe(true);
    expect(xml).toContain('<entry name="$flow.key.a&quot;b&lt;c&amp;">v</entry>');
    expect(parseXmlReply(xml)).toEqual(comparable({ ...data, ctrl: 'xyz' }));
  });

  it('when fields that need <entry> sit between ordinary fields, then the field order is kept', () => {
    const xml = renderXml({ a: '1', '9x': '2', b: '3', 'y z': '4' });
    const names = (ordered.parse(xml)[1].response as Record<string, unknown>[]).map((n) => Object.keys(n).find((k) => k !== ':@'));
    expect(names).toEqual(['a', 'entry', 'b', 'entry']);
  });

  it('when a list is the whole reply, then each element is an <item>', () => {
    const xml = renderXmlList([{ cli: '+919879964805' }, { cli: '+919879964806' }]);
    expect(xml).toBe('<?xml version="1.0" encoding="UTF-8"?><response><item><cli>+919879964805</cli></item><item><cli>+919879964806</cli></item></response>');
  });
});
