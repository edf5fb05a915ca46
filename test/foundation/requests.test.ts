import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { echoFeature } from './echoFeature.js';
import { listen } from '../helpers/listen.js';

const HOOK = '/centraloutboundwebhook-v1/test/';
const xmlParser = new XMLParser({ parseTagValue: false });
const parseXmlReply = (text: string) => xmlParser.parse(text).response;

let t: TestApp;
beforeAll(() => {
  t = buildTestApp({}, { features: echoFeature });
});
afterAll(() => t.close());

describe('request bodies (1.1)', () => {
  it('when the body is JSON, then its members are parameters', async () => {
    const r = await request(t.http).post(HOOK).send({ method: 'echoParams', cli: '9879964805', flag: 'yes', count: 3 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ echoed: true, stage: 'test', cli: '+919879964805', flag: true, count: 3 });
  });

  it('when the body is a form, then its fields are parameters', async () => {
    const r = await request(t.http).post(HOOK).type('form').send('method=echoParams&cli=09879964805&count=7');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ cli: '+919879964805', count: 7 });
  });

  for (const type of ['application/xml', 'text/xml', 'application/xml; charset=UTF-8', 'application/soap+xml']) {
    it(`when the body is ${type}, then each child element is a parameter and nesting forms objects and arrays`, async () => {
      const r = await request(t.http)
        .post(HOOK)
        .set('Content-Type', type)
        .set('Accept', 'application/json')
        .send('<req><method>echoParams</method><cli>+91 98799-64805</cli><nested><city>Pune</city></nested><list>a</list><list>b</list></req>');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ cli: '+919879964805', nested: { city: 'Pune' }, list: ['a', 'b'] });
    });
  }

  it('when the type is vendor +json, then it is read as JSON', async () => {
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/vnd.central+json').send('{"method":"echoParams","count":"4"}');
    expect(r.body).toMatchObject({ echoed: true, count: 4 });
  });

  it('when query and body both name a parameter, then the body wins and query-only names are read', async () => {
    const r = await request(t.http).post(`${HOOK}?method=echoParams&count=1&name=fromquery`).send({ count: 2 });
    expect(r.body).toMatchObject({ count: 2, name: 'fromquery' });
  });

  it('when the body is gzip or deflate encoded, then it is inflated', async () => {
    const server = await listen(t.http);
    try {
      for (const [enc, fn] of [
        ['gzip', gzipSync],
        ['deflate', deflateSync],
      ] as const) {
        const r = await fetch(`${server.url}${HOOK}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': enc },
          body: fn(Buffer.from('{"method":"echoParams","count":5}')),
        });
        expect(r.status, enc).toBe(200);
        expect(((await r.json()) as { count: number }).count).toBe(5);
      }
      const bomb = gzipSync(Buffer.from(JSON.stringify({ method: 'echoParams', name: 'y'.repeat(5 * 1024 * 1024) })));
      const big = await fetch(`${server.url}${HOOK}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: bomb,
      });
      expect(big.status).toBe(413);
      const corrupt = await fetch(`${server.url}${HOOK}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: 'not gzip',
      });
      expect(corrupt.status).toBe(400);
      expect(((await corrupt.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    } finally {
      await server.close();
    }
  });

  it('when the content type is unsupported, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const r = await request(t.http).post(HOOK).set('Content-Type', 'text/plain').send('method=echoParams');
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('when the charset is not UTF-8, then 415', async () => {
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/json; charset=ISO-8859-1').send('{"method":"echoParams"}');
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('when the body is over 64 KiB, then 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ method: 'echoParams', name: 'x'.repeat(70 * 1024) });
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/json').send(big);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when a 5 MB body arrives, then 413 without reading it all', async () => {
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send(`<a>${'x'.repeat(5 * 1024 * 1024)}</a>`);
    expect(r.status).toBe(413);
    expect(parseXmlReply(r.text).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when the JSON is malformed, then 400 INVALID_JSON', async () => {
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/json').send('{"method": ');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_JSON');
  });

  for (const [label, xml] of [
    ['truncated', '<req><method>echoParams</method>'],
    ['mismatched', '<req><method>echoParams</methd></req>'],
    ['two roots', '<a>1</a><b>2</b>'],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e])],
  ] as const) {
    it(`when the XML is ${label}, then 400 INVALID_XML in XML`, async () => {
      const r = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send(xml);
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/xml/);
      expect(parseXmlReply(r.text).error.code).toBe('INVALID_XML');
    });
  }
});

describe('hostile XML', () => {
  const cases: [string, string][] = [
    ['XXE file entity', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><method>&x;</method></r>'],
    ['XXE over http', '<!DOCTYPE r [<!ENTITY x SYSTEM "http://192.168.1.1/x">]><r><method>&x;</method></r>'],
    [
      'billion laughs',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    ],
    ['lowercase doctype', '<!doctype r><r/>'],
    ['undefined entity', '<r><method>&xxe;</method></r>'],
  ];
  for (const [label, xml] of cases) {
    it(`when the body is ${label}, then 400 INVALID_XML`, async () => {
      const r = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send(xml);
      expect(r.status).toBe(400);
      expect(parseXmlReply(r.text).error.code).toBe('INVALID_XML');
      expect(r.text).not.toContain('root:');
    });
  }

  it('when the XML is nested 100,000 deep, then 413 (too large) or 400, quickly', async () => {
    const deep = '<a>'.repeat(100_000) + '</a>'.repeat(100_000);
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send(deep);
    expect([400, 413]).toContain(r.status);
  });

  it('when the XML is nested deeper than 100 levels within the size limit, then 400 INVALID_XML', async () => {
    const deep = '<a>'.repeat(5_000) + '</a>'.repeat(5_000);
    const r = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send(deep);
    expect(r.status).toBe(400);
    expect(parseXmlReply(r.text).error.code).toBe('INVALID_XML');
  });
});

describe('parameter names and values (1.2, 1.5)', () => {
  it('when parameters use Central flow variable names, then they map to short names', async () => {
    const r = await request(t.http)
      .post(HOOK)
      .send({ '$flow.syskey.method': 'echoParams', '$flow.key.cli': '9879964805', '$user.key.city': 'Pune', 'key.Tier': 'gold' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ cli: '+919879964805', key: { city: 'Pune', Tier: 'gold' } });
  });

  it('when short names differ in case, then they still match, but user key names keep their case', async () => {
    const r = await request(t.http).post(HOOK).send({ METHOD: 'echoParams', Count: '9', 'key.CityName': 'x' });
    expect(r.body).toMatchObject({ count: 9, key: { CityName: 'x' } });
  });

  for (const [v, expected] of [
    ['TRUE', true],
    ['no', false],
    ['1', true],
    ['0', false],
    ['Yes', true],
    [false, false],
  ] as const) {
    it(`when a boolean is ${JSON.stringify(v)}, then it is ${expected}`, async () => {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', flag: v });
      expect(r.body.flag).toBe(expected);
    });
  }

  for (const bad of ['maybe', '2', '']) {
    it(`when a boolean is ${JSON.stringify(bad)}, then 400 INVALID_PARAMETER naming the field`, async () => {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', flag: bad });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ echoed: false, error: { code: 'INVALID_PARAMETER', field: 'flag' } });
    });
  }

  for (const bad of ['1.5', '1.0', '1e3', '+5', ' 5', 'abc', 2.5]) {
    it(`when an integer is ${JSON.stringify(bad)}, then 400 INVALID_PARAMETER`, async () => {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', count: bad });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'count' });
    });
  }

  it('when an integer is "-0012", then it is read as a whole number (range checked)', async () => {
    const r = await request(t.http).post(HOOK).send({ method: 'echoParams', count: '0012' });
    expect(r.body.count).toBe(12);
    const neg = await request(t.http).post(HOOK).send({ method: 'echoParams', count: '-1' });
    expect(neg.status).toBe(400);
  });

  for (const spelling of ['9879964805', '919879964805', '+91 98799-64805', '09879964805', '(098799) 64805', '98799.64805']) {
    it(`when the number is written ${spelling}, then it is +919879964805`, async () => {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', cli: spelling });
      expect(r.body.cli).toBe('+919879964805');
    });
  }

  for (const bad of ['12345', '0919879964805', 'anonymous', 'client:alice', 'sip:9879964805@host', '98799x64805']) {
    it(`when the number is ${bad}, then 400 INVALID_PARAMETER`, async () => {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', cli: bad });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'cli' });
    });
  }

  it('when a length limit applies, then it counts code points', async () => {
    const ok = await request(t.http).post(HOOK).send({ method: 'echoParams', name: '😀'.repeat(10) });
    expect(ok.status).toBe(200);
    const tooLong = await request(t.http).post(HOOK).send({ method: 'echoParams', name: '😀'.repeat(11) });
    expect(tooLong.status).toBe(400);
  });

  it('when a form field or query parameter is repeated, then 400 INVALID_PARAMETER', async () => {
    const form = await request(t.http).post(HOOK).type('form').send('method=echoParams&count=1&count=2');
    expect(form.status).toBe(400);
    expect(form.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'count' });
    const query = await request(t.http).post(`${HOOK}?method=echoParams&name=a&name=b`).send({});
    expect(query.status).toBe(400);
  });

  it('when an XML element is repeated for a scalar, then 400 INVALID_PARAMETER', async () => {
    const r = await request(t.http)
      .post(HOOK)
      .set('Content-Type', 'application/xml')
      .send('<r><method>echoParams</method><count>1</count><count>2</count></r>');
    expect(r.status).toBe(400);
    expect(parseXmlReply(r.text).error.field).toBe('count');
  });

  it('when a JSON array or object stands in place of a scalar, then 400 INVALID_PARAMETER', async () => {
    for (const v of [['x'], { a: 1 }]) {
      const r = await request(t.http).post(HOOK).send({ method: 'echoParams', name: v });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe('name');
    }
  });

  it('when a name is a JavaScript object property, then it is only an unknown name', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'key.__proto__']) {
      const form = await request(t.http).post(HOOK).type('form').send(`method=echoParams&${encodeURIComponent(name)}=1`);
      expect(form.status, name).toBe(200);
    }
    const json = await request(t.http).post(HOOK).set('Content-Type', 'application/json').send('{"method":"echoParams","__proto__":{"polluted":1},"constructor":"x"}');
    expect(json.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const xml = await request(t.http).post(HOOK).set('Content-Type', 'application/xml').send('<r><method>echoParams</method><__proto__><polluted>1</polluted></__proto__><toString>x</toString></r>');
    expect(xml.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const method = await request(t.http).post(HOOK).send({ method: 'constructor' });
    expect(method.body.error.code).toBe('UNKNOWN_METHOD');
  });

  it('when form fields use bracket syntax, then the name is taken literally', async () => {
    const r = await request(t.http).post(HOOK).type('form').send('method=echoParams&key%5Bcity%5D=Pune');
    expect(r.status).toBe(200);
    expect(r.body.key).toEqual({});
  });
});

describe('the central webhook dispatcher (2)', () => {
  it('when method is missing, then 400 MISSING_PARAMETER field method', async () => {
    const r = await request(t.http).post(HOOK).send({ cli: '9879964805' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { code: 'MISSING_PARAMETER', message: expect.any(String), field: 'method' } });
  });

  it('when method is unknown, then 400 UNKNOWN_METHOD', async () => {
    const r = await request(t.http).post(HOOK).send({ method: 'nope' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'UNKNOWN_METHOD', field: 'method' });
  });

  it('when the method is given in the query string, then it is used', async () => {
    const r = await request(t.http).post(`${HOOK}?method=echoParams`).send({});
    expect(r.body.echoed).toBe(true);
  });

  for (const path of ['/centraloutboundwebhook-v1/Prod/', '/centraloutboundwebhook-v1/staging/', '/centraloutboundwebhook-v1/TEST']) {
    it(`when the stage is ${path}, then 404 NOT_FOUND`, async () => {
      const r = await request(t.http).post(path).send({ method: 'echoParams' });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    });
  }

  it('when the trailing slash is left off, then the webhook still answers, per stage', async () => {
    const r = await request(t.http).post('/centraloutboundwebhook-v1/prod').send({ method: 'echoParams' });
    expect(r.body).toMatchObject({ echoed: true, stage: 'prod' });
  });

  it('when the webhook is called with GET, then 405 with Allow: POST', async () => {
    const r = await request(t.http).get(HOOK);
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });

  it('when a path is unknown, then 404 NOT_FOUND', async () => {
    const r = await request(t.http).post('/nothing/here').send({});
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
  });

  it('when a method fails unexpectedly, then 500 INTERNAL with the failure fields and no details', async () => {
    const r = await request(t.http).post(HOOK).send({ method: 'boom' });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'internal error' } });
    const logged = t.logs.join('');
    expect(logged).not.toMatch(/DROP TABLE|secret_table|\/src\/x\.ts/);
  });

  it('when a method reports a conflict, then 409 with the failure fields', async () => {
    const r = await request(t.http).post(HOOK).send({ method: 'conflict' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });
});

describe('responses (1.3)', () => {
  const body = { method: 'echoParams', cli: '9879964805', flag: true, 'key.city': 'Pune', list: ['a', 'b'] };

  it('when ?format=xml, then the reply is XML with the same data', async () => {
    const json = await request(t.http).post(HOOK).send(body);
    const xml = await request(t.http).post(`${HOOK}?format=xml`).send(body);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    expect(xml.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const parsed = parseXmlReply(xml.text);
    expect(parsed).toMatchObject({ echoed: 'true', cli: json.body.cli, flag: 'true', key: { city: 'Pune' }, list: { item: ['a', 'b'] }, name: '' });
  });

  for (const [accept, format] of [
    ['application/xml', 'xml'],
    ['text/xml', 'xml'],
    ['application/json', 'json'],
    ['application/json;q=0.5, application/xml', 'xml'],
    ['application/xml;q=0.5, application/json', 'json'],
    ['text/html', 'json'],
  ] as const) {
    it(`when Accept is "${accept}" with a JSON body, then the reply is ${format}`, async () => {
      const r = await request(t.http).post(HOOK).set('Accept', accept).send(body);
      expect(r.headers['content-type']).toMatch(format === 'xml' ? /application\/xml/ : /application\/json/);
    });
  }

  for (const [accept, format] of [
    [undefined, 'xml'],
    ['*/*', 'xml'],
    ['application/json', 'json'],
  ] as const) {
    it(`when the body is XML and Accept is ${accept ?? 'absent'}, then the reply is ${format}`, async () => {
      let req = request(t.http).post(HOOK).set('Content-Type', 'application/xml');
      if (accept) req = req.set('Accept', accept);
      else req = req.unset('Accept');
      const r = await req.send('<r><method>echoParams</method></r>');
      expect(r.headers['content-type']).toMatch(format === 'xml' ? /application\/xml/ : /application\/json/);
    });
  }

  it('when a spoken or echoed value holds markup characters, then the XML escapes them', async () => {
    const r = await request(t.http).post(`${HOOK}?format=xml`).send({ method: 'echoParams', name: `<&>"'` });
    expect(parseXmlReply(r.text).name).toBe(`<&>"'`);
  });

  it('when a value holds control characters, then the XML reply stays well-formed', async () => {
    // (NUL itself is refused as input, docs/http.md §7.4; other C0 controls reach the renderer.)
    const r = await request(t.http).post(`${HOOK}?format=xml`).send({ method: 'echoParams', name: 'a\u0001b\u001bc' });
    expect(parseXmlReply(r.text).name).toBe('abc');
  });

  it('when a user key is not a valid XML name, then it is written as <entry name>', async () => {
    const r = await request(t.http).post(`${HOOK}?format=xml`).send({ method: 'echoParams', 'key.9lives': 'cat' });
    expect(r.text).toContain('<entry name="9lives">cat</entry>');
  });

  it('when a request id is sent, then it is echoed; a malformed one is replaced', async () => {
    const r = await request(t.http).post(HOOK).set('X-Request-Id', 'abc-123.x_Y').send({ method: 'echoParams' });
    expect(r.headers['x-request-id']).toBe('abc-123.x_Y');
    const bad = await request(t.http).post(HOOK).set('X-Request-Id', 'bad id<script>').send({ method: 'echoParams' });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await request(t.http).get('/healthz');
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
