import supertest from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const SOAP = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:m">
  <soap:Body><m:Result m:status="ok"><m:Code> 200 </m:Code><m:Items><m:item><m:name>a</m:name></m:item><m:item><m:name>b</m:name></m:item></m:Items></m:Result></soap:Body>
</soap:Envelope>`;

const MAPPING = {
  '$flow.key.code': 'Envelope.Body.Result.Code',
  '$flow.key.status': 'Envelope.Body.Result.@status',
  '$flow.key.second': 'Envelope.Body.Result.Items.item[1].name',
  '$flow.key.none': 'Envelope.Body.Fault.Code',
};
const EXPECTED = {
  variables: { '$flow.key.code': '200', '$flow.key.status': 'ok', '$flow.key.second': 'b', '$flow.key.none': null },
  missing: ['$flow.key.none'],
};

let t: TestApp;
beforeAll(() => {
  t = buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const preview = () => supertest(t.http).post('/mapping/preview');
const xmlReply = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

describe('POST /mapping/preview', () => {
  it('when a SOAP document and a mapping are posted as JSON, then the variables and the missing ones come back', async () => {
    const res = await preview().send({ document: SOAP, mapping: MAPPING });
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual(EXPECTED);
  });

  it('when the document is JSON text, then the same paths read it', async () => {
    const document = JSON.stringify({ response: { obdReqID: 'obd_1', contacts: 3, items: { item: [{ n: 'x' }, { n: 'y' }] } } });
    const res = await preview().send({
      document,
      mapping: { '$flow.key.id': 'response.obdReqID', '$flow.key.count': 'response.contacts', '$flow.key.y': 'response.items.item[1].n' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ variables: { '$flow.key.id': 'obd_1', '$flow.key.count': '3', '$flow.key.y': 'y' }, missing: [] });
  });

  it('when the document is given as a JSON object rather than text, then it is read as the JSON document', async () => {
    const res = await preview().send({ document: { a: { b: 'c' } }, mapping: { '$flow.key.b': 'a.b' } });
    expect(res.body).toEqual({ variables: { '$flow.key.b': 'c' }, missing: [] });
  });

  it('when the request is a form, then document is text and mapping a JSON object', async () => {
    const res = await preview().type('form').send({ document: SOAP, mapping: JSON.stringify(MAPPING) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(EXPECTED);
  });

  it('when the request is XML with the document as CDATA and <entry name> mappings, then the reply is XML with the same data', async () => {
    const entries = Object.entries(MAPPING).map(([k, v]) => `<entry name="${k}">${v}</entry>`).join('');
    const res = await preview()
      .set('Content-Type', 'application/xml')
      .send(`<preview><document><![CDATA[${SOAP}]]></document><mapping>${entries}</mapping></preview>`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/xml');
    const r = xmlReply.parse(res.text).response;
    expect(r.variables.entry).toEqual([
      { '@name': '$flow.key.code', '#text': '200' },
      { '@name': '$flow.key.status', '#text': 'ok' },
      { '@name': '$flow.key.second', '#text': 'b' },
      { '@name': '$flow.key.none' },
    ]);
    expect(r.missing.item).toBe('$flow.key.none');
  });

  it('when the request is XML with the document inline and element-named mappings, then it is read as the document', async () => {
    const res = await preview()
      .set('Content-Type', 'application/xml')
      .set('Accept', 'application/json')
      .send(`<preview><document>${SOAP.replace(/^<\?xml[^>]*>/, '')}</document><mapping><code>Envelope.Body.Result.Code</code><st>soap:Envelope.soap:Body.m:Result.@m:status</st></mapping></preview>`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ variables: { code: '200', st: 'ok' }, missing: [] });
  });

  it('when the XML request escapes the document as text, then entities are decoded before it is parsed', async () => {
    const escaped = '&lt;r&gt;&lt;a x="1"&gt;A &amp;amp; B&lt;/a&gt;&lt;/r&gt;';
    const res = await preview()
      .set('Content-Type', 'application/xml')
      .set('Accept', 'application/json')
      .send(`<preview><document>${escaped}</document><mapping><entry name="v">r.a</entry><entry name="x">r.a.@x</entry></mapping></preview>`);
    expect(res.body).toEqual({ variables: { v: 'A & B', x: '1' }, missing: [] });
  });

  it('when ?format=xml is asked, then the JSON request gets an XML reply', async () => {
    const res = await preview().query({ format: 'xml' }).send({ document: '<r><a>1</a></r>', mapping: { '$flow.key.a': 'r.a' } });
    expect(res.type).toBe('application/xml');
    expect(res.text).toContain('<entry name="$flow.key.a">1</entry>');
    expect(res.text).toContain('<missing/>');
  });

  it('when the XML document is malformed, then 400 INVALID_XML', async () => {
    for (const document of ['<r><a>1</r>', '<r>', '<r></r><s/>', '<r a="1" a="2"/>', '<r>&bogus;</r>']) {
      const res = await preview().send({ document, mapping: { x: 'r.a' } });
      expect(res.status, document).toBe(400);
      expect(res.body.error.code, document).toBe('INVALID_XML');
      expect(res.body.error.field).toBe('document');
    }
  });

  it('when the XML document has a DOCTYPE, then 400 INVALID_XML and nothing is expanded', async () => {
    const res = await preview().send({ document: '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', mapping: { x: 'r' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_XML');
  });

  it('when the JSON document is malformed, then 400 INVALID_JSON', async () => {
    for (const document of ['{"a":', 'hello', '{a:1}', '[1,]']) {
      const res = await preview().send({ document, mapping: { x: 'a' } });
      expect(res.status, document).toBe(400);
      expect(res.body.error.code, document).toBe('INVALID_JSON');
    }
  });

  it('when a path is malformed, then 400 INVALID_PARAMETER naming the variable', async () => {
    const res = await preview().send({ document: '<r/>', mapping: { '$flow.key.ok': 'r', '$flow.key.bad': 'r..a' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: '$flow.key.bad' });
    expect(res.body.error.message).toContain('$flow.key.bad');
  });

  it('when both the document and a path are bad, then the path is reported first', async () => {
    const res = await preview().send({ document: '<r><unclosed></r>', mapping: { '$flow.key.bad': 'r[' } });
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: '$flow.key.bad' });
  });

  it('when a path is not a string, then 400 INVALID_PARAMETER naming the variable', async () => {
    const res = await preview().send({ document: '<r/>', mapping: { '$flow.key.n': 5 } });
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: '$flow.key.n' });
  });

  it('when document or mapping is absent or of the wrong kind, then a 400 names it', async () => {
    const cases: [unknown, string, string][] = [
      [{ mapping: { x: 'a' } }, 'MISSING_PARAMETER', 'document'],
      [{ document: '  ', mapping: { x: 'a' } }, 'MISSING_PARAMETER', 'document'],
      [{ document: 5, mapping: { x: 'a' } }, 'INVALID_PARAMETER', 'document'],
      [{ document: '<r/>' }, 'MISSING_PARAMETER', 'mapping'],
      [{ document: '<r/>', mapping: ['r'] }, 'INVALID_PARAMETER', 'mapping'],
      [{ document: '<r/>', mapping: 'r' }, 'INVALID_PARAMETER', 'mapping'],
    ];
    for (const [body, code, field] of cases) {
      const res = await preview().send(body as object);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code, field });
    }
    const form = await preview().type('form').send({ document: '<r/>', mapping: 'r.a' });
    expect(form.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'mapping' });
    const empty = await preview();
    expect(empty.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'document' });
  });

  it('when the request body itself does not parse, then INVALID_JSON / INVALID_XML / 415', async () => {
    const json = await preview().set('Content-Type', 'application/json').send('{"document":');
    expect(json.body.error.code).toBe('INVALID_JSON');
    const xml = await preview().set('Content-Type', 'application/xml').send('<preview><document>');
    expect(xml.status).toBe(400);
    expect(xml.text).toContain('<code>INVALID_XML</code>');
    const text = await preview().set('Content-Type', 'text/plain').send('hello');
    expect(text.status).toBe(415);
  });

  it('when a variable or path is named like an Object.prototype member, then it is just a name', async () => {
    const res = await preview()
      .set('Content-Type', 'application/json')
      .send('{"document":"<r><constructor>c</constructor></r>","mapping":{"__proto__":"r.constructor","toString":"r.__proto__"}}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ variables: { ['__proto__']: 'c', toString: null }, missing: ['toString'] });
  });

  it('when the preview is used with GET, then 405 with Allow: POST', async () => {
    const res = await supertest(t.http).get('/mapping/preview');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('when a preview runs, then nothing is stored', async () => {
    const before = await tableCounts(t);
    await preview().send({ document: SOAP, mapping: MAPPING });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when the caller is not on the allowlist, then 403 FORBIDDEN_IP', async () => {
    const other = buildTestApp({ ALLOWED_IPS: '10.0.0.0/8' });
    try {
      const res = await supertest(other.http).post('/mapping/preview').send({ document: '<r/>', mapping: {} });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN_IP');
    } finally {
      await other.close();
    }
  });
});
