import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { plivoSignatureV3, twilioSignature } from '../../src/ivr/ivr.signature.js';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

/**
 * The attacks of issue 10 items 1-3 on signed IVR callbacks (docs/http.md §7.1), each replayed
 * as the red team sent it, with the refusal and "nothing changed" asserted. Signatures follow
 * https://www.twilio.com/docs/usage/security#validating-requests and
 * https://www.plivo.com/docs/voice/concepts/signature-validation (V3).
 */

const BASE = 'https://ivr.example.com';
const ASHA = '+919879964805';
const RAVI = '+919879964806';
let t: TestApp;
afterEach(async () => t?.close());

async function setup(env: Record<string, string>) {
  t = buildTestApp({ PUBLIC_BASE_URL: BASE, PAUSE_CHANGES_PER_MINUTE: '0', ...env });
  await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
  await supertest(t.http).put('/admin/test/agents/9879964806').send({ name: 'Ravi' }).expect(201);
}

const agent = async (cli: string) => (await supertest(t.http).get(`/admin/test/agents/${encodeURIComponent(cli)}`)).body as { pause: boolean };
const events = async () => (await supertest(t.http).get('/admin/test/events')).body as unknown[];

describe('issue 10 item 1: a captured signed URL replayed with a JSON or XML body', () => {
  it('when a signed Twilio GET URL is re-sent as a POST with a JSON body naming another agent, then 403 and nothing changes', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = `/ivr/test/inbound?CallSid=CAcaptured&From=${encodeURIComponent(ASHA)}`;
    const sig = twilioSignature('tw-secret', BASE + path, []);
    // The captured request itself is served (Asha goes on break) ...
    expect((await supertest(t.http).get(path).set('X-Twilio-Signature', sig)).status).toBe(200);
    const before = await tableCounts(t);
    const log = await events();
    // ... and then replayed, over and over, with an unsigned body that names Ravi and a fresh call id.
    for (let i = 0; i < 3; i++) {
      const json = await supertest(t.http).post(path).set('X-Twilio-Signature', sig).type('json').send({ From: RAVI, CallSid: `fresh${i}` });
      expect(json.status).toBe(403);
      expect(json.text).toContain('<code>FORBIDDEN</code>');
      const xml = await supertest(t.http)
        .post(path)
        .set('X-Twilio-Signature', sig)
        .type('application/xml')
        .send(`<call><From>${RAVI}</From><CallSid>x${i}</CallSid></call>`);
      expect(xml.status).toBe(403);
    }
    // A malformed JSON body is refused the same way, unread.
    expect((await supertest(t.http).post(path).set('X-Twilio-Signature', sig).type('json').send('{"From":')).status).toBe(403);
    expect((await agent(RAVI)).pause).toBe(false);
    expect(await events()).toEqual(log);
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a signed Plivo V3 request is replayed with a JSON body, then 403 and nothing changes', async () => {
    await setup({ PLIVO_AUTH_TOKEN: 'pl-secret' });
    const path = `/ivr/test/inbound?dialect=plivo&CallUUID=u-captured&From=919879964805`;
    const headers = { 'X-Plivo-Signature-V3': plivoSignatureV3('pl-secret', 'POST', BASE + path, [], 'n1'), 'X-Plivo-Signature-V3-Nonce': 'n1' };
    const before = await tableCounts(t);
    const r = await supertest(t.http).post(path).set(headers).type('json').send({ From: '919879964806', CallUUID: 'fresh' });
    expect(r.status).toBe(403);
    expect((await agent(RAVI)).pause).toBe(false);
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a signed form carries look-alike names (CallFrom, from, cli), then only the platform’s own From counts', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = '/ivr/test/inbound';
    const form: [string, string][] = [['CallSid', 'CAlook'], ['From', ASHA], ['CallFrom', RAVI], ['cli', RAVI], ['from', RAVI]];
    const body = new URLSearchParams(form).toString();
    const r = await supertest(t.http).post(path).set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, form)).type('form').send(body);
    expect(r.status).toBe(200);
    expect((await agent(ASHA)).pause).toBe(true);
    expect((await agent(RAVI)).pause).toBe(false);
  });
});

describe('issue 10 item 2: signed parameters re-split so the call id disappears', () => {
  it('when CallSid=CA77 is re-cut as C=allSidCA77, then the signature still matches but the request is refused and nothing changes', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = '/ivr/test/inbound';
    const legit: [string, string][] = [['CallSid', 'CA77'], ['From', ASHA]];
    const sig = twilioSignature('tw-secret', BASE + path, legit);
    expect((await supertest(t.http).post(path).set('X-Twilio-Signature', sig).type('form').send(new URLSearchParams(legit).toString())).status).toBe(200);
    const resplit: [string, string][] = [['C', 'allSidCA77'], ['From', ASHA]];
    // The attack works on the signature: the re-cut parameters sign to the same value.
    expect(twilioSignature('tw-secret', BASE + path, resplit)).toBe(sig);
    const before = await tableCounts(t);
    const log = await events();
    for (let i = 0; i < 3; i++) {
      const r = await supertest(t.http).post(path).set('X-Twilio-Signature', sig).type('form').send(new URLSearchParams(resplit).toString());
      expect(r.status).toBe(403);
      expect(r.text).toContain('CallSid');
    }
    expect(await events()).toEqual(log);
    expect((await agent(ASHA)).pause).toBe(true);
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a Plivo request is re-split so CallUUID disappears, then 403', async () => {
    await setup({ PLIVO_AUTH_TOKEN: 'pl-secret' });
    const path = '/ivr/test/inbound?dialect=plivo';
    const resplit: [string, string][] = [['Call', 'UUIDu77'], ['From', '919879964805']];
    const headers = { 'X-Plivo-Signature-V3': plivoSignatureV3('pl-secret', 'POST', BASE + path, resplit, 'n'), 'X-Plivo-Signature-V3-Nonce': 'n' };
    const before = await tableCounts(t);
    const r = await supertest(t.http).post(path).set(headers).type('form').send(new URLSearchParams(resplit).toString());
    expect(r.status).toBe(403);
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a captured request is replayed exactly after its stored reply is pruned, then the call is too old: 403 and nothing changes', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = '/ivr/test/inbound';
    const form: [string, string][] = [['CallSid', 'CAold'], ['From', ASHA]];
    const send = () =>
      supertest(t.http).post(path).set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, form)).type('form').send(new URLSearchParams(form).toString());
    expect((await send()).status).toBe(200);
    // A day later the stored reply is gone (the pruner runs at start and hourly) ...
    t.clock.advance(25 * 60 * 60 * 1000);
    t.app.start();
    const [stored] = await t.query<{ n: number | string }>('SELECT count(*) AS n FROM ivr_steps WHERE call_id = ?', ['CAold']);
    expect(Number(stored!.n)).toBe(0);
    const log = await events();
    // ... but the call id is remembered, and a call that began 25 hours ago is a replay.
    const replay = await send();
    expect(replay.status).toBe(403);
    expect(replay.text).toContain('240 minutes');
    expect(await events()).toEqual(log);
    expect((await agent(ASHA)).pause).toBe(true);
  });

  it('when a call’s callbacks come within IVR_CALL_MAX_MINUTES, then they are served; after it, 403', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret', IVR_CALL_MAX_MINUTES: '10', IVR_MODE: 'menu' });
    const path = '/ivr/test/inbound';
    const send = (p: string, form: [string, string][]) =>
      supertest(t.http).post(p).set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + p, form)).type('form').send(new URLSearchParams(form).toString());
    const first = await send(path, [['CallSid', 'CAlong'], ['From', ASHA]]);
    expect(first.status).toBe(200);
    const action = /action="([^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&').slice(BASE.length);
    t.clock.advance(9 * 60 * 1000);
    expect((await send(action, [['CallSid', 'CAlong'], ['From', ASHA], ['Digits', '3']])).status).toBe(200);
    t.clock.advance(2 * 60 * 1000);
    const late = await send(action, [['CallSid', 'CAlong'], ['From', ASHA], ['Digits', '2']]);
    expect(late.status).toBe(403);
    expect(await events()).toEqual([]);
  });
});

describe('issue 10 item 3: the signed URL built from the Host header', () => {
  it('when a platform token is set without PUBLIC_BASE_URL, then start-up stops with one line naming it', () => {
    for (const env of [{ TWILIO_AUTH_TOKEN: 'x' }, { PLIVO_AUTH_TOKEN: 'y' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/^Invalid configuration: PUBLIC_BASE_URL is required when (TWILIO|PLIVO)_AUTH_TOKEN is set[^\n]*$/);
    }
  });

  it('when a request signed for another deployment’s host arrives with that Host, then 403 and nothing changes', async () => {
    // The other host is allowed (docs/http.md §7.3), so it is the signature check that refuses.
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret', ALLOWED_HOSTS: 'other-deployment.example.net' });
    const path = '/ivr/test/inbound';
    const form: [string, string][] = [['CallSid', 'CAother'], ['From', ASHA]];
    const sig = twilioSignature('tw-secret', `https://other-deployment.example.net${path}`, form);
    const before = await tableCounts(t);
    const r = await supertest(t.http)
      .post(path)
      .set({ Host: 'other-deployment.example.net', 'X-Twilio-Signature': sig, 'X-Forwarded-Proto': 'https' })
      .type('form')
      .send(new URLSearchParams(form).toString());
    expect(r.status).toBe(403);
    expect(await tableCounts(t)).toEqual(before);
  });
});
