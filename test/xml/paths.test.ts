import { describe, expect, it } from 'vitest';
import { parseXml, xmlToParams } from '../../src/xml/parse.js';
import { parsePath, PathError, readPath, type MappedDocument } from '../../src/xml/paths.js';

const xml = (text: string): MappedDocument => ({ kind: 'xml', root: parseXml(text) });
const json = (value: unknown): MappedDocument => ({ kind: 'json', root: value });
const read = (doc: MappedDocument, path: string) => readPath(doc, parsePath(path));

describe('mapping paths: syntax', () => {
  it('when a path is well formed, then it is split into names, indexes and a final attribute', () => {
    expect(parsePath('items.item[1].@sku')).toEqual([
      { name: 'items', written: 'items', indexes: [], attribute: false },
      { name: 'item', written: 'item', indexes: [1], attribute: false },
      { name: 'sku', written: 'sku', indexes: [], attribute: true },
    ]);
    expect(parsePath('soap:Envelope.m:Body')[0]).toEqual({ name: 'Envelope', written: 'soap:Envelope', indexes: [], attribute: false });
    expect(parsePath('grid[1][0]')[0]!.indexes).toEqual([1, 0]);
  });

  const malformed: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['a..b', /empty segment/],
    ['.a', /empty segment/],
    ['a.', /empty segment/],
    ['a.@id.b', /last segment/],
    ['a.@', /attribute name/],
    ['a.@id[0]', /attribute name/],
    ['a[', /index/],
    ['a[x]', /index/],
    ['a[-1]', /index/],
    ['a[1', /index/],
    ['a[1]b', /index/],
    ['a[]', /index/],
    ['[0]', /not a valid name/],
    ['a b', /not a valid name/],
    ['a]', /not a valid name/],
    ['/response/obdReqID', /not a valid name/],
    ['response/obdReqID', /not a valid name/],
    ['items.*.name', /not a valid name/],
    ['soap:.Body', /not a valid name/],
    ['a.@x:', /attribute name/],
    ['a[99999999]', /index/],
    [`a${'.b'.repeat(64)}`, /segments/],
    ['a'.repeat(1025), /longer/],
  ];
  for (const [path, message] of malformed) {
    it(`when the path is ${JSON.stringify(path.length > 40 ? `${path.slice(0, 20)}…` : path)}, then it is refused saying why`, () => {
      expect(() => parsePath(path)).toThrow(PathError);
      expect(() => parsePath(path)).toThrow(message);
    });
  }
});

describe('mapping paths: reading XML', () => {
  const doc = xml(`<?xml version="1.0"?>
    <s:Envelope xmlns:s="urn:s"><s:Body>
      <list total="2"><row id="r0"> first </row><row id="r1"><![CDATA[ <second> ]]></row></list>
      <empty/><attrsOnly k="v"/><mixed a="1">text<child>c</child></mixed>
      <amp>Tom &amp; Jerry &#x263A;</amp><constructor>built</constructor><__proto__>p</__proto__>
    </s:Body></s:Envelope>`);

  it('when the root element is the first segment, then the element text is read trimmed', () => {
    expect(read(doc, 'Envelope.Body.list.row[0]')).toBe('first');
    expect(read(doc, 'Body.list.row[0]')).toBeNull();
  });
  it('when namespace prefixes appear in the path, then they are ignored', () => {
    expect(read(doc, 's:Envelope.x:Body.list.@total')).toBe('2');
  });
  it('when [n] picks a repeated sibling, then it is 0-based and out of range is null', () => {
    expect(read(doc, 'Envelope.Body.list.row[1]')).toBe('<second>');
    expect(read(doc, 'Envelope.Body.list.row[1].@id')).toBe('r1');
    expect(read(doc, 'Envelope.Body.list.row[2]')).toBeNull();
  });
  it('when a repeated element is named without [n], then the first is read', () => {
    expect(read(doc, 'Envelope.Body.list.row.@id')).toBe('r0');
    expect(read(doc, 'Envelope.Body.list.row')).toBe('first');
  });
  it('when a single element is indexed, then [0] is itself and [1] is nothing', () => {
    expect(read(doc, 'Envelope.Body.list[0].@total')).toBe('2');
    expect(read(doc, 'Envelope.Body.list[1].@total')).toBeNull();
  });
  it('when an element is empty or has only attributes, then its text is the empty string', () => {
    expect(read(doc, 'Envelope.Body.empty')).toBe('');
    expect(read(doc, 'Envelope.Body.attrsOnly')).toBe('');
    expect(read(doc, 'Envelope.Body.attrsOnly.@k')).toBe('v');
  });
  it('when an element has child elements, then it has no text value unless it has text of its own', () => {
    expect(read(doc, 'Envelope.Body.list')).toBeNull();
    expect(read(doc, 'Envelope.Body.mixed')).toBe('text');
    expect(read(doc, 'Envelope.Body.mixed.child')).toBe('c');
  });
  it('when text has entities and character references, then they are decoded', () => {
    expect(read(doc, 'Envelope.Body.amp')).toBe('Tom & Jerry ☺');
  });
  it('when an element is named like an Object.prototype member, then it is an ordinary name', () => {
    expect(read(doc, 'Envelope.Body.constructor')).toBe('built');
    expect(read(doc, 'Envelope.Body.__proto__')).toBe('p');
    expect(read(doc, 'Envelope.Body.toString')).toBeNull();
    expect(read(doc, 'Envelope.Body.list.hasOwnProperty')).toBeNull();
  });
  it('when a reply writes a field as <entry name="…">, then a path naming the field reads it', () => {
    const reply = xml('<response><key><entry name="2fa">on</entry><city>Pune</city><entry name="9lives"/><entry name="x-y"><a>1</a></entry></key></response>');
    expect(read(reply, 'response.key.2fa')).toBe('on');
    expect(read(reply, 'response.key.9lives')).toBe('');
    expect(read(reply, 'response.key.x-y.a')).toBe('1');
    expect(read(reply, 'response.key.city')).toBe('Pune');
    expect(read(reply, 'response.key.3fa')).toBeNull();
  });
  it('when an attribute is asked of an element without it, or a path goes below text, then null', () => {
    expect(read(doc, 'Envelope.Body.list.@nope')).toBeNull();
    expect(read(doc, 'Envelope.Body.amp.deeper')).toBeNull();
  });
});

describe('mapping paths: reading JSON', () => {
  const doc = json({
    a: { b: [{ c: 'x' }, { c: 'y' }], n: 0, t: false, z: null, o: {} },
    'ns:el': { '@id': '7', v: 'w' },
    grid: [[1, 2], [3, 4]],
  });
  it('when the same path syntax is used on JSON, then members, indexes and scalars are read as text', () => {
    expect(read(doc, 'a.b[1].c')).toBe('y');
    expect(read(doc, 'a.b.c')).toBe('x');
    expect(read(doc, 'a.n')).toBe('0');
    expect(read(doc, 'a.t')).toBe('false');
    expect(read(doc, 'grid[1][0]')).toBe('3');
  });
  it('when a JSON value is null, an object or absent, then it has no value', () => {
    expect(read(doc, 'a.z')).toBeNull();
    expect(read(doc, 'a.o')).toBeNull();
    expect(read(doc, 'a.missing')).toBeNull();
    expect(read(doc, 'a.toString')).toBeNull();
    expect(read(doc, 'a.__proto__')).toBeNull();
  });
  it('when a JSON member name has a prefix or an @, then the XML-style path still finds it', () => {
    expect(read(doc, 'el.v')).toBe('w');
    expect(read(doc, 'ns:el.@id')).toBe('7');
    expect(read(doc, 'ns:el.@v')).toBe('w');
  });
  it('when a JSON reply of this service is mapped with the XML reply path response.X, then the same mapping works', () => {
    const reply = json({ obdResponseCode: 200, obdReqID: 'obd_1', contacts: [{ number: '+919879964805' }] });
    expect(read(reply, 'response.obdReqID')).toBe('obd_1');
    expect(read(reply, 'response.contacts[0].number')).toBe('+919879964805');
    expect(read(reply, 'obdReqID')).toBe('obd_1');
    expect(read(reply, 'response')).toBeNull();
    expect(read(reply, 'responses.obdReqID')).toBeNull();
    expect(read(reply, 'other.obdReqID')).toBeNull();
    // A document that has a `response` member is read as written.
    expect(read(json({ response: { id: 'in' }, id: 'out' }), 'response.id')).toBe('in');
    expect(read(json({ response: { x: '1' }, id: 'out' }), 'response.id')).toBeNull();
  });
  it('when the JSON document is a top-level array, then a path starts in its first element', () => {
    expect(read(json([{ a: '1' }]), 'a')).toBe('1');
  });
});

describe('XML request bodies use the same tree', () => {
  it('when an XML body holds prototype-named elements and character references, then they are plain parameters', () => {
    const params = xmlToParams(parseXml('<r><constructor>1</constructor><name>&#x905;&amp;</name><key><city>Pune</city></key></r>').r!);
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect({ ...params }).toEqual({ constructor: '1', name: 'अ&', key: { city: 'Pune' } });
  });
});
