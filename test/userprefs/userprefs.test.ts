import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const HOOK = '/centraloutboundwebhook-v1/test/';
const PROD = '/centraloutboundwebhook-v1/prod/';
const USER = { contactNumber: '9879964805', accountID: 'acc-1' };
const xml = new XMLParser({ parseTagValue: false });

let t: TestApp;
beforeEach(() => {
  t = buildTestApp();
});
afterEach(() => t.close());

const update = (body: Record<string, unknown>, path = HOOK) =>
  request(t.http).post(path).send({ method: 'updateUserPreferences', ...USER, ...body });
const get = (path = HOOK, user: Record<string, string> = USER) =>
  request(t.http).post(path).send({ method: 'getUserPreferences', ...user });
const rows = () => t.query('SELECT stage, account_id, contact_number, name, value FROM user_preferences ORDER BY name');

describe('updateUserPreferences: spellings (2.5, 1.1)', () => {
  it('when keys come as a JSON key object, then they are stored and every key is returned', async () => {
    const r = await update({ key: { city: 'Pune', lang: 'hi' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ updated: true, contactNumber: '+919879964805', accountID: 'acc-1', key: { city: 'Pune', lang: 'hi' } });
    const g = await get();
    expect(g.status).toBe(200);
    expect(g.body).toEqual({ contactNumber: '+919879964805', accountID: 'acc-1', key: { city: 'Pune', lang: 'hi' } });
  });

  it('when keys come as form fields key.NAME and $user.key.NAME, then both are stored with their case', async () => {
    const r = await request(t.http)
      .post(HOOK)
      .type('form')
      .send('method=updateUserPreferences&contactNumber=%2B91%2098799-64805&accountID=acc-1&key.City=Pune&%24user.key.tier=gold');
    expect(r.status).toBe(200);
    expect(r.body.key).toEqual({ City: 'Pune', tier: 'gold' });
  });

  it('when flow variable names carry contactNumber and keys in JSON, then they are read', async () => {
    const r = await request(t.http).post(HOOK).send({
      method: 'updateUserPreferences',
      '$user.syskey.contactNumber': '09879964805',
      '$flow.key.accountID': 'acc-1',
      '$user.key.city': 'Delhi',
      'key.zone': 'north',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ contactNumber: '+919879964805', key: { city: 'Delhi', zone: 'north' } });
  });

  it('when the body is XML with nested <key>, then the keys are stored and the reply is XML', async () => {
    const r = await request(t.http)
      .post(HOOK)
      .set('Content-Type', 'application/xml')
      .send(
        '<request><method>updateUserPreferences</method><contactNumber>919879964805</contactNumber><accountID>acc-1</accountID>' +
          '<key><city>Pune &amp; Mumbai</city><note/></key></request>',
      );
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/xml/);
    const doc = xml.parse(r.text).response;
    expect(doc).toEqual({ updated: 'true', contactNumber: '+919879964805', accountID: 'acc-1', key: { city: 'Pune & Mumbai', note: '' } });

    const g = await request(t.http)
      .post(HOOK)
      .set('Content-Type', 'text/xml')
      .send('<r><method>getUserPreferences</method><contactNumber>9879964805</contactNumber><accountID>acc-1</accountID></r>');
    expect(xml.parse(g.text).response.key).toEqual({ city: 'Pune & Mumbai', note: '' });
  });

  it('when numbers and booleans are given, then they are kept as text', async () => {
    const r = await update({ key: { visits: 42, ratio: 1.5, vip: true } });
    expect(r.body.key).toEqual({ visits: '42', ratio: '1.5', vip: 'true' });
  });
});

describe('updateUserPreferences: merge and delete (2.5, 1.5)', () => {
  it('when a second update names other keys, then the first keys are kept and named keys replaced', async () => {
    await update({ key: { city: 'Pune', lang: 'hi' } });
    const r = await update({ key: { lang: 'en', tier: 'gold' } });
    expect(r.body.key).toEqual({ city: 'Pune', lang: 'en', tier: 'gold' });
  });

  it('when a key is JSON null, then it is deleted and the others stay', async () => {
    await update({ key: { city: 'Pune', lang: 'hi' } });
    const r = await update({ 'key.city': null });
    expect(r.status).toBe(200);
    expect(r.body.key).toEqual({ lang: 'hi' });
    expect(await rows()).toHaveLength(1);
  });

  it('when an empty form field or an empty XML element is given, then an empty string is stored (not a delete)', async () => {
    await update({ key: { city: 'Pune', lang: 'hi' } });
    const f = await request(t.http).post(HOOK).type('form').send('method=updateUserPreferences&contactNumber=9879964805&accountID=acc-1&key.city=');
    expect(f.body.key).toEqual({ city: '', lang: 'hi' });
    const x = await request(t.http)
      .post(HOOK)
      .set('Content-Type', 'application/xml')
      .set('Accept', 'application/json')
      .send('<r><method>updateUserPreferences</method><contactNumber>9879964805</contactNumber><accountID>acc-1</accountID><key><lang></lang></key></r>');
    expect(x.body.key).toEqual({ city: '', lang: '' });
  });

  it('when deleting a key that does not exist, then the update succeeds and nothing else changes', async () => {
    await update({ key: { city: 'Pune' } });
    const r = await update({ key: { ghost: null } });
    expect(r.status).toBe(200);
    expect(r.body.key).toEqual({ city: 'Pune' });
  });

  it('when keys differ only in case, then they are different keys', async () => {
    const r = await update({ key: { city: 'a', City: 'b' } });
    expect(r.body.key).toEqual({ City: 'b', city: 'a' });
  });

  it('when one number is written in different ways, then it is one user in E.164', async () => {
    await update({ key: { a: '1' } }, HOOK);
    await request(t.http).post(HOOK).send({ method: 'updateUserPreferences', contactNumber: '+91 98799-64805', accountID: 'acc-1', key: { b: '2' } });
    const g = await get(HOOK, { contactNumber: '09879964805', accountID: 'acc-1' });
    expect(g.body.key).toEqual({ a: '1', b: '2' });
  });

  it('when the stage or the account differs, then the keys are separate', async () => {
    await update({ key: { city: 'Pune' } }, HOOK);
    expect((await get(PROD)).body.key).toEqual({});
    expect((await get(HOOK, { contactNumber: '9879964805', accountID: 'acc-2' })).body.key).toEqual({});
    await update({ key: { city: 'Delhi' } }, PROD);
    expect((await get(HOOK)).body.key).toEqual({ city: 'Pune' });
    expect((await get(PROD)).body.key).toEqual({ city: 'Delhi' });
  });

  it('when a user has no keys, then get returns an empty key object', async () => {
    const g = await get();
    expect(g.status).toBe(200);
    expect(g.body).toEqual({ contactNumber: '+919879964805', accountID: 'acc-1', key: {} });
  });

  it('when a key is named like an object property, then it is an ordinary key and nothing is polluted', async () => {
    const r = await request(t.http)
      .post(HOOK)
      .set('Content-Type', 'application/json')
      .send('{"method":"updateUserPreferences","contactNumber":"9879964805","accountID":"acc-1","key":{"__proto__":"x","constructor":"y"},"key.toString":"z"}');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.key).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const g = await get();
    expect(JSON.parse(g.text).key).toEqual(JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}'));
  });
});

describe('updateUserPreferences: bad input changes nothing (2.5, 1.2, 1.5)', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['contactNumber is missing', { method: 'updateUserPreferences', accountID: 'a', key: { c: '1' } }, 'MISSING_PARAMETER', 'contactNumber'],
    ['accountID is missing', { method: 'updateUserPreferences', contactNumber: '9879964805', key: { c: '1' } }, 'MISSING_PARAMETER', 'accountID'],
    ['contactNumber is not a number', { method: 'updateUserPreferences', ...USER, contactNumber: 'anonymous', key: { c: '1' } }, 'INVALID_PARAMETER', 'contactNumber'],
    ['contactNumber is not valid for the region', { method: 'updateUserPreferences', ...USER, contactNumber: '12345', key: { c: '1' } }, 'INVALID_PARAMETER', 'contactNumber'],
    ['no key is given', { method: 'updateUserPreferences', ...USER }, 'MISSING_PARAMETER', 'key'],
    ['a key name has a space', { method: 'updateUserPreferences', ...USER, key: { ok: '1', 'my city': 'x' } }, 'INVALID_PARAMETER', 'key.my city'],
    ['a key name is 65 characters', { method: 'updateUserPreferences', ...USER, key: { ['a'.repeat(65)]: 'x' } }, 'INVALID_PARAMETER', `key.${'a'.repeat(65)}`],
    ['a key name is empty', { method: 'updateUserPreferences', ...USER, key: { '': 'x' } }, 'INVALID_PARAMETER', 'key.'],
    ['a value is an object', { method: 'updateUserPreferences', ...USER, key: { ok: '1', city: { name: 'Pune' } } }, 'INVALID_PARAMETER', 'key.city'],
    ['a value is an array', { method: 'updateUserPreferences', ...USER, 'key.city': ['a', 'b'] }, 'INVALID_PARAMETER', 'key.city'],
    ['a value has 4097 characters', { method: 'updateUserPreferences', ...USER, key: { ok: '1', big: 'x'.repeat(4097) } }, 'INVALID_PARAMETER', 'key.big'],
    ['key is a string', { method: 'updateUserPreferences', ...USER, key: 'city=Pune' }, 'INVALID_PARAMETER', 'key'],
    ['one name is given in two spellings', { method: 'updateUserPreferences', ...USER, 'key.city': 'a', key: { city: 'b' } }, 'INVALID_PARAMETER', 'key.city'],
  ];
  for (const [what, body, code, field] of cases) {
    it(`when ${what}, then 400 ${code} on ${field} with updated false and nothing stored`, async () => {
      await update({ key: { keep: 'me' } });
      const before = await tableCounts(t);
      const r = await request(t.http).post(HOOK).send(body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ updated: false, error: { code, field } });
      expect(await tableCounts(t)).toEqual(before);
      expect(await rows()).toEqual([{ stage: 'test', account_id: 'acc-1', contact_number: '+919879964805', name: 'keep', value: 'me' }]);
    });
  }

  it('when a form uses bracket syntax, then key[city] is not a user key and no key is stored', async () => {
    const r = await request(t.http).post(HOOK).type('form').send('method=updateUserPreferences&contactNumber=9879964805&accountID=acc-1&key[city]=Pune');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'key' });
    expect(await rows()).toEqual([]);
  });

  it('when a form repeats a key field, then 400 INVALID_PARAMETER', async () => {
    const r = await request(t.http).post(HOOK).type('form').send('method=updateUserPreferences&contactNumber=9879964805&accountID=acc-1&key.city=a&key.city=b');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'key.city' });
  });

  it('when a value is 4096 code points of astral characters, then it is accepted (lengths count code points)', async () => {
    const value = '😀'.repeat(4096);
    const r = await update({ key: { emoji: value } });
    expect(r.status).toBe(200);
    expect(r.body.key.emoji).toBe(value);
    const over = await update({ key: { emoji: `${value}a` } });
    expect(over.status).toBe(400);
  });

  it('when a valid name of 64 characters with . _ - is given, then it is stored', async () => {
    const name = `a.b_c-${'z'.repeat(58)}`;
    const r = await update({ key: { [name]: 'v' } });
    expect(r.status).toBe(200);
    expect(r.body.key[name]).toBe('v');
  });
});

describe('updateUserPreferences: at most 200 keys a user (2.5)', () => {
  const many = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, String(i)]));

  it('when an update would leave 201 keys, then 400 and none of its keys is stored', async () => {
    expect((await update({ key: many(199) })).status).toBe(200);
    const r = await update({ key: { new1: 'a', new2: 'b', k0: 'changed' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ updated: false, error: { code: 'INVALID_PARAMETER', field: 'key' } });
    expect(r.body.error.message).toMatch(/200/);
    expect(await rows()).toHaveLength(199);
    expect((await get()).body.key.k0).toBe('0');
  });

  it('when a user has 200 keys, then replacing keys works and deleting one makes room in the same update', async () => {
    expect((await update({ key: many(200) })).status).toBe(200);
    expect((await update({ key: { k5: 'five' } })).status).toBe(200);
    const r = await update({ key: { k0: null, extra: 'x' } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.key)).toHaveLength(200);
    expect(r.body.key.extra).toBe('x');
  });

  it('when 201 keys are sent at once, then 400 and nothing is stored', async () => {
    const r = await update({ key: many(201) });
    expect(r.status).toBe(400);
    expect(await rows()).toEqual([]);
  });
});

describe('updateUserPreferences: concurrency (2.5)', () => {
  it('when 100 updates of distinct keys run concurrently, then all 100 keys are present afterwards', async () => {
    await update({ key: { base: 'kept' } });
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(t.http)
          .post(HOOK)
          .send({ method: 'updateUserPreferences', ...USER, [`key.k${i}`]: `v${i}` }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(100).fill(200));
    const keys = (await get()).body.key;
    expect(Object.keys(keys)).toHaveLength(101);
    for (let i = 0; i < 100; i++) expect(keys[`k${i}`]).toBe(`v${i}`);
    expect(keys.base).toBe('kept');
  });
});
