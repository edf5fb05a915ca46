import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import {
  CLIENT_ID,
  FLOW_ID,
  OTHER_SECURITY_ID,
  SECURITY_ID,
  createBody,
  numbers,
  registerClient,
  statusBody,
  webhook,
} from './outboundHelpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let t: TestApp;
beforeEach(async () => {
  t = buildTestApp();
  await registerClient(t);
});
afterEach(async () => {
  await t.close();
});

async function storedNumbers(): Promise<string[]> {
  return (await t.query<{ number: string }>('SELECT number FROM outbound_contacts ORDER BY req_id, seq')).map((r) => r.number);
}

async function count(table: string): Promise<number> {
  return (await t.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n;
}

describe('admin clients', () => {
  it('when a client is registered, then 201; when replaced, then 200; the security ID is never echoed', async () => {
    const first = await supertest(t.http).put('/admin/prod/clients/c-2').send({ securityID: SECURITY_ID, flows: ['AAAA1111'] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ clientID: 'c-2', flows: ['AAAA1111'] });
    expect(first.text).not.toContain(SECURITY_ID);
    const again = await supertest(t.http).put('/admin/prod/clients/c-2').send({ securityID: OTHER_SECURITY_ID, flows: ['BBBB2222', 'BBBB2222'] });
    expect(again.status).toBe(200);
    expect(again.body.flows).toEqual(['BBBB2222']);
  });

  it('when the securityID is not 64 characters or a flow is not 8, then 400 and nothing is stored', async () => {
    const before = await tableCounts(t);
    const shortSecret = await supertest(t.http).put('/admin/prod/clients/c-3').send({ securityID: 'short', flows: [FLOW_ID] });
    expect(shortSecret.status).toBe(400);
    expect(shortSecret.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'securityID' });
    expect(shortSecret.text).not.toContain('short');
    const badFlow = await supertest(t.http).put('/admin/prod/clients/c-3').send({ securityID: SECURITY_ID, flows: ['FLOW1'] });
    expect(badFlow.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'flows' });
    const noFlows = await supertest(t.http).put('/admin/prod/clients/c-3').send({ securityID: SECURITY_ID });
    expect(noFlows.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'flows' });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when the stage is not prod or test, then 404; when another verb is used, then 405 with Allow', async () => {
    expect((await supertest(t.http).put('/admin/Prod/clients/x').send({ securityID: SECURITY_ID, flows: [] })).status).toBe(404);
    const res = await supertest(t.http).post('/admin/prod/clients/x').send({});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain('PUT');
  });
});

describe('createOutbound', () => {
  it('when a flow asks for calls, then 200 with the request id, an RFC 4122 UUID, scheduledAt and the count', async () => {
    const res = await webhook(t, createBody({ contactNumbers: ['9879964805', '+91 99797 46666'] }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      obdResponseCode: 200,
      obdReqID: expect.any(String),
      obdPhononUUID: expect.stringMatching(UUID),
      scheduledAt: new Date(t.clock.now()).toISOString(),
      contacts: 2,
      suppressed: 0,
    });
    expect(await storedNumbers()).toEqual(['+919879964805', '+919979746666']);
  });

  it('when delayMinutes is given, then scheduledAt is that many minutes later', async () => {
    const res = await webhook(t, createBody({ delayMinutes: '90' }));
    expect(res.body.scheduledAt).toBe(new Date(t.clock.now() + 90 * 60_000).toISOString());
    const max = await webhook(t, createBody({ delayMinutes: 10080 }));
    expect(max.status).toBe(200);
  });

  it('when contactNumbers is one string, then it is split on , ; and line breaks and spaces inside a number are formatting', async () => {
    const res = await webhook(t, createBody({ contactNumbers: '91997974 6666, 9879964805;(987) 000-0001\n98000-00002\r\n+91 98000 00003' }));
    expect(res.status).toBe(200);
    expect(res.body.contacts).toBe(5);
    expect(await storedNumbers()).toEqual(['+919979746666', '+919879964805', '+919870000001', '+919800000002', '+919800000003']);
  });

  it('when the same number is spelled several ways, then it is scheduled once', async () => {
    const res = await webhook(t, createBody({ contactNumbers: ['9879964805', '919879964805', '+91 98799-64805', '09879964805', 919879964805] }));
    expect(res.body.contacts).toBe(1);
    expect(await storedNumbers()).toEqual(['+919879964805']);
  });

  it('when the body is XML with repeated contactNumbers, or a form with one text, then the numbers are read the same', async () => {
    const xml = await supertest(t.http)
      .post('/centraloutboundwebhook-v1/prod/')
      .set('Content-Type', 'application/xml')
      .set('Accept', 'application/json')
      .send(
        `<request><method>createOutbound</method><apiVersion>1.0</apiVersion><clientID>${CLIENT_ID}</clientID>` +
          `<securityID>${SECURITY_ID}</securityID><flowID>${FLOW_ID}</flowID>` +
          '<contactNumbers>9879964805</contactNumbers><contactNumbers>9800000002</contactNumbers></request>',
      );
    expect(xml.status).toBe(200);
    expect(xml.body.contacts).toBe(2);
    const form = await supertest(t.http)
      .post('/centraloutboundwebhook-v1/prod/')
      .type('form')
      .send({ ...createBody(), contactNumbers: '9879964805,9800000003' } as Record<string, string>);
    expect(form.status).toBe(200);
    expect(form.body.contacts).toBe(2);
  });

  it('when contactNumbers is a repeated form field or XML <item> children, then each value is one number', async () => {
    const { contactNumbers: _one, ...rest } = createBody();
    const form = new URLSearchParams(rest as Record<string, string>);
    for (const n of ['9879964805', '98000 00002', '+91 98000-00003']) form.append('contactNumbers', n);
    const res = await supertest(t.http).post('/centraloutboundwebhook-v1/prod/').type('form').send(form.toString());
    expect(res.status).toBe(200);
    expect(res.body.contacts).toBe(3);
    const xml = await supertest(t.http)
      .post('/centraloutboundwebhook-v1/prod/')
      .set('Content-Type', 'application/xml')
      .set('Accept', 'application/json')
      .send(
        `<request><method>createOutbound</method><apiVersion>1.0</apiVersion><clientID>${CLIENT_ID}</clientID>` +
          `<securityID>${SECURITY_ID}</securityID><flowID>${FLOW_ID}</flowID>` +
          '<contactNumbers><item>9879964805</item><item>12345</item></contactNumbers></request>',
      );
    expect(xml.status).toBe(400);
    expect(xml.body.error.invalid).toEqual(['12345']);
  });

  it('when parameters use Central flow variable names, then they are understood', async () => {
    const res = await webhook(t, {
      method: 'createOutbound',
      '$flow.syskey.apiVersion': '1.0',
      '$flow.key.clientID': CLIENT_ID,
      '$flow.key.securityId': SECURITY_ID,
      '$flow.key.flowID': FLOW_ID,
      '$flow.key.contactNumbers': '9879964805',
    });
    expect(res.status).toBe(200);
  });

  it('when any number is invalid, then 400 lists every invalid one and nothing is scheduled', async () => {
    const before = await tableCounts(t);
    const res = await webhook(t, createBody({ contactNumbers: '9879964805, 12345; abc,9800000002,+91 1111' }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      obdResponseCode: 400,
      obdReqID: null,
      error: { code: 'INVALID_PARAMETER', field: 'contactNumbers', invalid: ['12345', 'abc', '+91 1111'] },
    });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a list element is not text or a number, then it is listed as invalid', async () => {
    const res = await webhook(t, createBody({ contactNumbers: ['9879964805', { n: 1 }, true] }));
    expect(res.body.error.invalid).toEqual(['{"n":1}', 'true']);
  });

  it('when there are no numbers, then 400; 1000 distinct numbers are accepted and 1001 are not', async () => {
    const before = await tableCounts(t);
    for (const empty of [[], '', ' , ;\n']) {
      const res = await webhook(t, createBody({ contactNumbers: empty }));
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('contactNumbers');
    }
    const missing = await webhook(t, createBody({ contactNumbers: undefined }));
    expect(missing.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'contactNumbers' });
    const tooMany = await webhook(t, createBody({ contactNumbers: numbers(1001) }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'contactNumbers' });
    expect(await tableCounts(t)).toEqual(before);
    const withDuplicates = await webhook(t, createBody({ contactNumbers: [...numbers(1000), '9800000000'] }));
    expect(withDuplicates.status).toBe(200);
    expect(withDuplicates.body.contacts).toBe(1000);
  });

  it('when apiVersion is missing or not 1.0, then 400 with obdResponseCode 400 and obdReqID null', async () => {
    const wrong = await webhook(t, createBody({ apiVersion: '2.0' }));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ obdResponseCode: 400, obdReqID: null, error: { code: 'UNSUPPORTED_API_VERSION', field: 'apiVersion' } });
    const missing = await webhook(t, createBody({ apiVersion: undefined }));
    expect(missing.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'apiVersion' });
    const number = await webhook(t, createBody({ apiVersion: 1.0 }));
    expect(number.status).toBe(200);
  });

  it('when the client is unknown or the securityID is not its own, then 401 and nothing is scheduled', async () => {
    await registerClient(t, { clientID: 'other', securityID: OTHER_SECURITY_ID });
    const before = await tableCounts(t);
    for (const body of [
      createBody({ clientID: 'nobody' }),
      createBody({ securityID: OTHER_SECURITY_ID }),
      createBody({ securityID: SECURITY_ID.slice(0, 63) + 'X' }),
    ]) {
      const res = await webhook(t, body);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ obdResponseCode: 401, obdReqID: null, error: { code: 'UNAUTHORIZED' } });
    }
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when the client exists only in the other stage, then 401', async () => {
    const res = await webhook(t, createBody(), 'test');
    expect(res.status).toBe(401);
  });

  it('when the flow is not one of the client\'s, then 404 FLOW_NOT_FOUND', async () => {
    const before = await tableCounts(t);
    const res = await webhook(t, createBody({ flowID: 'OTHERFLW' }));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ obdResponseCode: 404, obdReqID: null, error: { code: 'FLOW_NOT_FOUND', field: 'flowID' } });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when securityID, flowID or delayMinutes are malformed, then 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ securityID: 'abc' }, 'INVALID_PARAMETER', 'securityID'],
      [{ securityID: undefined }, 'MISSING_PARAMETER', 'securityID'],
      [{ flowID: 'FLOW' }, 'INVALID_PARAMETER', 'flowID'],
      [{ clientID: undefined }, 'MISSING_PARAMETER', 'clientID'],
      [{ delayMinutes: 10081 }, 'INVALID_PARAMETER', 'delayMinutes'],
      [{ delayMinutes: -1 }, 'INVALID_PARAMETER', 'delayMinutes'],
      [{ delayMinutes: '1.5' }, 'INVALID_PARAMETER', 'delayMinutes'],
      [{ delayMinutes: 'soon' }, 'INVALID_PARAMETER', 'delayMinutes'],
    ];
    for (const [override, code, field] of cases) {
      const res = await webhook(t, createBody(override));
      expect(res.status, JSON.stringify(override)).toBe(400);
      expect(res.body.error).toMatchObject({ code, field });
      expect(res.body.obdResponseCode).toBe(400);
    }
    expect(await count('outbound_contacts')).toBe(0);
  });

  it('when an error is asked for in XML, then the failure fields are in the XML too', async () => {
    const res = await supertest(t.http).post('/centraloutboundwebhook-v1/prod/?format=xml').send(createBody({ flowID: 'OTHERFLW' }));
    expect(res.status).toBe(404);
    expect(res.text).toContain('<obdResponseCode>404</obdResponseCode>');
    expect(res.text).toContain('<obdReqID/>');
  });

  it('when the same Idempotency-Key comes again within 24 h, then the first response is returned and nothing new is scheduled', async () => {
    const first = await webhook(t, createBody({ contactNumbers: ['9879964805', '9800000001'] })).set('Idempotency-Key', 'order-42');
    const again = await webhook(t, createBody({ contactNumbers: ['9800000009'] })).set('Idempotency-Key', 'order-42');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await storedNumbers()).toEqual(['+919879964805', '+919800000001']);
    t.clock.advance(24 * 60 * 60 * 1000 + 1);
    const later = await webhook(t, createBody()).set('Idempotency-Key', 'order-42');
    expect(later.body.obdReqID).not.toBe(first.body.obdReqID);
  });

  it('when idempotency records are older than 24 h, then they are removed as new ones are stored', async () => {
    await webhook(t, createBody()).set('Idempotency-Key', 'old-1');
    await webhook(t, createBody()).set('Idempotency-Key', 'old-2');
    t.clock.advance(24 * 60 * 60 * 1000);
    await webhook(t, createBody()).set('Idempotency-Key', 'new-1');
    expect((await t.query<{ key: string }>('SELECT key FROM idempotency_keys ORDER BY key')).map((r) => r.key)).toEqual(['new-1']);
  });

  it('when requestRef is given, then it works as the idempotency key, per client', async () => {
    await registerClient(t, { clientID: 'other', securityID: OTHER_SECURITY_ID });
    const first = await webhook(t, createBody({ requestRef: 'ref-1' }));
    const again = await webhook(t, createBody({ requestRef: 'ref-1' }));
    const otherClient = await webhook(t, createBody({ requestRef: 'ref-1', clientID: 'other', securityID: OTHER_SECURITY_ID }));
    expect(again.body.obdReqID).toBe(first.body.obdReqID);
    expect(otherClient.status).toBe(200);
    expect(otherClient.body.obdReqID).not.toBe(first.body.obdReqID);
    expect(await count('outbound_requests')).toBe(2);
  });

  it('when 20 requests with one key arrive at once, then exactly one request is stored and all get its response', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => webhook(t, createBody()).set('Idempotency-Key', 'burst')),
    );
    expect(new Set(replies.map((r) => r.body.obdReqID)).size).toBe(1);
    expect(await count('outbound_requests')).toBe(1);
  });

  it('when a request failed validation, then its key is not used up', async () => {
    const bad = await webhook(t, createBody({ contactNumbers: 'abc' })).set('Idempotency-Key', 'k1');
    expect(bad.status).toBe(400);
    const good = await webhook(t, createBody()).set('Idempotency-Key', 'k1');
    expect(good.status).toBe(200);
  });

  it('when the idempotency key is too long, then 400 naming it', async () => {
    const res = await webhook(t, createBody()).set('Idempotency-Key', 'k'.repeat(256));
    expect(res.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'Idempotency-Key' });
  });

  it('when requests are logged, then the securityID never appears in the logs', async () => {
    await webhook(t, createBody());
    await webhook(t, createBody({ securityID: OTHER_SECURITY_ID }));
    expect(t.logs.join('')).not.toContain(SECURITY_ID);
    expect(t.logs.join('')).not.toContain(OTHER_SECURITY_ID);
  });
});

describe('getOutboundStatus and cancelOutbound', () => {
  it('when a request is scheduled, then its status lists every contact as scheduled', async () => {
    const created = await webhook(t, createBody({ contactNumbers: ['9879964805', '9800000001'], delayMinutes: 5 }));
    const res = await webhook(t, statusBody(created.body.obdReqID));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      obdReqID: created.body.obdReqID,
      status: 'scheduled',
      scheduledAt: created.body.scheduledAt,
      category: 'transactional',
      expiresAt: null,
      contacts: [
        { number: '+919879964805', status: 'scheduled', attempts: 0, lastError: null, outcome: null, durationSeconds: null },
        { number: '+919800000001', status: 'scheduled', attempts: 0, lastError: null, outcome: null, durationSeconds: null },
      ],
    });
  });

  it('when a request is cancelled, then every contact not yet dispatched is cancelled and stays so', async () => {
    const created = await webhook(t, createBody({ contactNumbers: ['9879964805', '9800000001'], delayMinutes: 5 }));
    const res = await webhook(t, statusBody(created.body.obdReqID, 'cancelOutbound'));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.contacts.map((c: { status: string }) => c.status)).toEqual(['cancelled', 'cancelled']);
    const again = await webhook(t, statusBody(created.body.obdReqID, 'cancelOutbound'));
    expect(again.body).toEqual(res.body);
  });

  it('when the id is unknown, belongs to another client or another stage, then 404 NOT_FOUND', async () => {
    await registerClient(t, { clientID: 'other', securityID: OTHER_SECURITY_ID });
    await registerClient(t, { stage: 'test' });
    const created = await webhook(t, createBody());
    for (const [body, stage] of [
      [statusBody('nope'), 'prod'],
      [statusBody(created.body.obdReqID, 'getOutboundStatus', { clientID: 'other', securityID: OTHER_SECURITY_ID }), 'prod'],
      [statusBody(created.body.obdReqID, 'cancelOutbound', { clientID: 'other', securityID: OTHER_SECURITY_ID }), 'prod'],
      [statusBody(created.body.obdReqID), 'test'],
    ] as const) {
      const res = await webhook(t, body, stage);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ obdReqID: null, error: { code: 'NOT_FOUND' } });
    }
    expect((await webhook(t, statusBody(created.body.obdReqID))).body.contacts[0].status).toBe('scheduled');
  });

  it('when the securityID is wrong, then 401 and nothing is cancelled', async () => {
    const created = await webhook(t, createBody({ delayMinutes: 5 }));
    const res = await webhook(t, statusBody(created.body.obdReqID, 'cancelOutbound', { securityID: OTHER_SECURITY_ID }));
    expect(res.status).toBe(401);
    expect((await webhook(t, statusBody(created.body.obdReqID))).body.status).toBe('scheduled');
  });

  it('when obdReqID is missing, then 400 MISSING_PARAMETER', async () => {
    const res = await webhook(t, statusBody(undefined as unknown as string));
    expect(res.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'obdReqID' });
  });
});
