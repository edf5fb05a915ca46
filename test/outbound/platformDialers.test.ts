import http from 'node:http';
import type { AddressInfo } from 'node:net';
import plivo from 'plivo';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyPlivoV3, verifyTwilio } from '../../src/ivr/ivr.signature.js';
import type { DialRequest } from '../../src/outbound/dialer.js';
import { ExotelDialer } from '../../src/outbound/exotelDialer.js';
import { PlivoDialer } from '../../src/outbound/plivoDialer.js';
import { TwilioDialer } from '../../src/outbound/twilioDialer.js';
import { startExotelDouble } from './doubles/exotel.js';
import { startPlivoDouble } from './doubles/plivo.js';
import { startTwilioDouble } from './doubles/twilio.js';

/**
 * Each platform dialer against its double (test/outbound/doubles/*, which cite the platforms'
 * docs): the exact request, the credentials, the reply read back, a 429 with Retry-After, and the
 * signed callback each double sends, checked with the service's verifiers and the platforms' SDKs.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-secret-token';
const FLOW_SID = `FW${'b2'.repeat(16)}`;

function request(overrides: Partial<DialRequest> = {}): DialRequest {
  return {
    obdReqID: 'req1',
    obdPhononUUID: '4b0c8f3e-5d5e-4e8a-9f53-2f1d3c9a7b10',
    clientID: 'acme',
    flowID: 'FLOW0001',
    number: '+919879964805',
    attempt: 1,
    idempotencyKey: 'req1-0',
    keys: { city: 'Pune', order: 'A-17' },
    category: 'transactional',
    callerId: '+918030752400',
    target: 'https://flows.example.com/answer',
    statusCallbackUrl: 'https://central.example.com/outbound/prod/status/k3y',
    ...overrides,
  };
}

/** A receiver for callbacks: records the raw request. */
async function receiver() {
  const got: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

describe('TwilioDialer (twilio SDK) against the Twilio double', () => {
  async function setUp(override?: Parameters<typeof startTwilioDouble>[0]['override']) {
    const double = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, override });
    cleanups.push(double.close);
    return { double, dialer: new TwilioDialer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiUrl: double.url, timeoutMs: 2000 }) };
  }

  it('when the target is an answer URL, then one Call is created with the keys in its Url and a completed-status callback', async () => {
    const { double, dialer } = await setUp();
    const outcome = await dialer.dial(request());
    expect(outcome).toMatchObject({ kind: 'dispatched', awaits: 'callback' });
    expect(double.received).toHaveLength(1);
    const r = double.received[0]!;
    expect(r).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`, auth: `${ACCOUNT_SID}:${AUTH_TOKEN}` });
    expect(r.contentType).toContain('application/x-www-form-urlencoded');
    expect(r.fields).toEqual({
      To: '+919879964805',
      From: '+918030752400',
      Url: 'https://flows.example.com/answer?city=Pune&order=A-17',
      Method: 'POST',
      StatusCallback: 'https://central.example.com/outbound/prod/status/k3y',
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: 'completed',
    });
    expect(outcome).toEqual({ kind: 'dispatched', awaits: 'callback', callId: double.calls[0]!.sid });
  });

  it('when the target is a Studio Flow SID, then an Execution starts with the keys as the Parameters JSON string and is polled until ended', async () => {
    const { double, dialer } = await setUp();
    const outcome = await dialer.dial(request({ target: FLOW_SID }));
    expect(double.received[0]).toMatchObject({ method: 'POST', path: `/v2/Flows/${FLOW_SID}/Executions`, auth: `${ACCOUNT_SID}:${AUTH_TOKEN}` });
    expect(double.received[0]!.fields).toEqual({ To: '+919879964805', From: '+918030752400', Parameters: '{"city":"Pune","order":"A-17"}' });
    const execution = double.executions[0]!;
    expect(outcome).toEqual({ kind: 'dispatched', callId: execution.sid, awaits: 'poll' });
    expect(await dialer.poll(FLOW_SID, execution.sid)).toEqual({ kind: 'active' });
    double.end(execution);
    expect(await dialer.poll(FLOW_SID, execution.sid)).toEqual({ kind: 'ended', outcome: 'completed' });
    expect(double.received[2]).toMatchObject({ method: 'GET', path: `/v2/Flows/${FLOW_SID}/Executions/${execution.sid}` });
  });

  it('when Twilio answers 429 with Retry-After, then the attempt is throttled for that long, not failed', async () => {
    const { dialer } = await setUp((_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '3' }, body: { code: 20429, message: 'Too Many Requests', status: 429 } } : undefined));
    expect(await dialer.dial(request())).toEqual({ kind: 'throttled', retryAfterMs: 3000, error: 'twilio answered HTTP 429' });
  });

  it('when the credentials are wrong, then the call fails for good with the status and Twilio code, and no secret in the error', async () => {
    const double = await startTwilioDouble({ accountSid: ACCOUNT_SID, authToken: 'another-token' });
    cleanups.push(double.close);
    const outcome = await new TwilioDialer({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiUrl: double.url, timeoutMs: 2000 }).dial(request());
    expect(outcome).toEqual({ kind: 'failed', error: 'twilio refused with HTTP 401 (code 20003)' });
  });

  it('when Twilio answers 5xx, then the attempt may be retried', async () => {
    const { dialer } = await setUp(() => ({ status: 503, body: { code: 20503, message: 'Service Unavailable', status: 503 } }));
    expect(await dialer.dial(request())).toEqual({ kind: 'retry', error: 'twilio answered HTTP 503 (code 20503)' });
  });

  it('when the flow has no target, then nothing is sent and the contact fails with a clear reason', async () => {
    const { double, dialer } = await setUp();
    expect(await dialer.dial(request({ target: undefined }))).toEqual({ kind: 'failed', error: 'flow FLOW0001 has no Twilio target (a Studio Flow SID or an answer URL)' });
    expect(double.received).toHaveLength(0);
  });

  it("when the double sends the status callback, then its X-Twilio-Signature verifies with the service's verifier and a forged one does not", async () => {
    const { double, dialer } = await setUp();
    const sink = await receiver();
    await dialer.dial(request({ statusCallbackUrl: `${sink.url}/outbound/prod/status/k3y` }));
    await double.finish(double.calls[0]!, 'busy', 0);
    await double.finish(double.calls[0]!, 'busy', 0, 'forged');
    const [good, forged] = sink.got;
    const params = (body: string) => [...new URLSearchParams(body)] as [string, string][];
    const url = `${sink.url}/outbound/prod/status/k3y`;
    expect(params(good!.body)).toEqual(expect.arrayContaining([['CallStatus', 'busy'], ['CallDuration', '0'], ['CallSid', double.calls[0]!.sid]]));
    expect(verifyTwilio(AUTH_TOKEN, url, params(good!.body), good!.headers['x-twilio-signature'] as string)).toBe(true);
    expect(verifyTwilio(AUTH_TOKEN, url, params(forged!.body), forged!.headers['x-twilio-signature'] as string)).toBe(false);
  });
});

describe('PlivoDialer (fetch) against the Plivo double', () => {
  const AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
  const TOKEN = 'plivo-secret-token';

  async function setUp(override?: Parameters<typeof startPlivoDouble>[0]['override']) {
    const double = await startPlivoDouble({ authId: AUTH_ID, authToken: TOKEN, override });
    cleanups.push(double.close);
    return { double, dialer: new PlivoDialer({ authId: AUTH_ID, authToken: TOKEN, apiUrl: double.url, timeoutMs: 2000 }) };
  }

  it('when a contact is dialled, then one JSON Call request carries from, to (without +), answer_url with the keys and hangup_url', async () => {
    const { double, dialer } = await setUp();
    const outcome = await dialer.dial(request());
    expect(double.received).toHaveLength(1);
    expect(double.received[0]).toMatchObject({ method: 'POST', path: `/v1/Account/${AUTH_ID}/Call/`, auth: `${AUTH_ID}:${TOKEN}` });
    expect(double.received[0]!.json).toEqual({
      from: '918030752400',
      to: '919879964805',
      answer_url: 'https://flows.example.com/answer?city=Pune&order=A-17',
      answer_method: 'POST',
      hangup_url: 'https://central.example.com/outbound/prod/status/k3y',
      hangup_method: 'POST',
    });
    expect(outcome).toEqual({ kind: 'dispatched', callId: double.calls[0]!.requestUuid, awaits: 'callback' });
  });

  it('when Plivo answers 429 with Retry-After, then the attempt is throttled for that long', async () => {
    const { double, dialer } = await setUp((_r, i) => (i === 0 ? double.tooManyRequests(2) : undefined));
    expect(await dialer.dial(request())).toEqual({ kind: 'throttled', retryAfterMs: 2000, error: 'plivo answered HTTP 429' });
  });

  it('when Plivo answers with error code 5030, then the attempt is throttled too', async () => {
    const { dialer } = await setUp(() => ({ status: 400, headers: { 'Retry-After': '1' }, body: { api_id: 'x', error: 'too many requests', error_code: 5030 } }));
    expect(await dialer.dial(request())).toMatchObject({ kind: 'throttled', retryAfterMs: 1000 });
  });

  it('when the credentials are wrong, then the call fails for good', async () => {
    const double = await startPlivoDouble({ authId: AUTH_ID, authToken: 'other' });
    cleanups.push(double.close);
    const outcome = await new PlivoDialer({ authId: AUTH_ID, authToken: TOKEN, apiUrl: double.url, timeoutMs: 2000 }).dial(request());
    expect(outcome).toEqual({ kind: 'failed', error: 'plivo refused with HTTP 401' });
  });

  it('when the double sends the hangup callback, then its V3 signature verifies with the plivo SDK and with the service, and a forged one with neither', async () => {
    const { double, dialer } = await setUp();
    const sink = await receiver();
    const url = `${sink.url}/outbound/prod/status/k3y`;
    await dialer.dial(request({ statusCallbackUrl: url }));
    await double.finish(double.calls[0]!, 'no-answer', 0);
    await double.finish(double.calls[0]!, 'no-answer', 0, 'forged');
    for (const [i, got] of sink.got.entries()) {
      const params = [...new URLSearchParams(got.body)] as [string, string][];
      const sig = got.headers['x-plivo-signature-v3'] as string;
      const nonce = got.headers['x-plivo-signature-v3-nonce'] as string;
      expect(plivo.validateV3Signature('POST', url, nonce, TOKEN, sig, Object.fromEntries(params))).toBe(i === 0);
      expect(verifyPlivoV3(TOKEN, 'POST', url, params, sig, nonce)).toBe(i === 0);
      expect(Object.fromEntries(params)).toMatchObject({ CallStatus: 'no-answer', Duration: '0', RequestUUID: double.calls[0]!.requestUuid });
    }
  });
});

describe('ExotelDialer (fetch) against the Exotel double', () => {
  const SID = 'acme1';
  const KEY = 'exotel-key';
  const TOKEN = 'exotel-token';

  async function setUp(override?: Parameters<typeof startExotelDouble>[0]['override']) {
    const double = await startExotelDouble({ accountSid: SID, apiKey: KEY, apiToken: TOKEN, override });
    cleanups.push(double.close);
    return { double, dialer: new ExotelDialer({ accountSid: SID, apiKey: KEY, apiToken: TOKEN, apiUrl: double.url, timeoutMs: 2000 }) };
  }

  it('when a contact is dialled, then one connect-to-flow request carries From, CallerId, the flow Url, CallType, StatusCallback and the keys as CustomField', async () => {
    const { double, dialer } = await setUp();
    const outcome = await dialer.dial(request({ target: '123456' }));
    expect(double.received).toHaveLength(1);
    expect(double.received[0]).toMatchObject({ method: 'POST', path: `/v1/Accounts/${SID}/Calls/connect`, auth: `${KEY}:${TOKEN}` });
    expect(double.received[0]!.fields).toEqual({
      From: '+919879964805',
      CallerId: '+918030752400',
      Url: `http://my.exotel.com/${SID}/exoml/start_voice/123456`,
      CallType: 'trans',
      StatusCallback: 'https://central.example.com/outbound/prod/status/k3y',
      'StatusCallbackEvents[0]': 'terminal',
      StatusCallbackContentType: 'application/json',
      CustomField: '{"city":"Pune","order":"A-17"}',
    });
    expect(outcome).toEqual({ kind: 'dispatched', callId: double.calls[0]!.sid, awaits: 'callback' });
  });

  it('when the category is promotional, then CallType is promo', async () => {
    const { double, dialer } = await setUp();
    await dialer.dial(request({ target: '123456', category: 'promotional' }));
    expect(double.received[0]!.fields.CallType).toBe('promo');
  });

  it('when Exotel answers 429 with Retry-After, then the attempt is throttled for that long', async () => {
    const { double, dialer } = await setUp((_r, i) => (i === 0 ? double.tooManyRequests(4) : undefined));
    expect(await dialer.dial(request({ target: '123456' }))).toEqual({ kind: 'throttled', retryAfterMs: 4000, error: 'exotel answered HTTP 429' });
  });

  it('when the double ends the call, then its terminal callback is JSON with the status, duration and CustomField', async () => {
    const { double, dialer } = await setUp();
    const sink = await receiver();
    await dialer.dial(request({ target: '123456', statusCallbackUrl: `${sink.url}/outbound/prod/status/k3y` }));
    await double.finish(double.calls[0]!, 'completed', 42);
    const body = JSON.parse(sink.got[0]!.body);
    expect(sink.got[0]!.url).toBe('/outbound/prod/status/k3y');
    expect(body).toMatchObject({ CallSid: double.calls[0]!.sid, Status: 'completed', ConversationDuration: 42, CustomField: '{"city":"Pune","order":"A-17"}' });
  });
});
