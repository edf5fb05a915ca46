import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { plivoSignatureV3, twilioSignature, verifyPlivoV3, verifyTwilio } from '../../src/ivr/ivr.signature.js';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const KNOWN_PARAMS = [
  ['CallSid', 'CA1234567890ABCDE'],
  ['Caller', '+14158675309'],
  ['Digits', '1234'],
  ['From', '+14158675309'],
  ['To', '+18005551212'],
] as const;

describe('Twilio signature', () => {
  it('when computed for Twilio’s published example, then it gives the known answer', () => {
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', KNOWN_PARAMS)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });

  it('when the parameters arrive in another order or the URL names the default port, then it still verifies', () => {
    const shuffled = [...KNOWN_PARAMS].reverse();
    expect(verifyTwilio('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', shuffled, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(true);
    expect(verifyTwilio('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', shuffled, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(true);
  });

  it('when the token, URL, a parameter or the header differ, then it fails', () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const sig = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';
    expect(verifyTwilio('12346', url, KNOWN_PARAMS, sig)).toBe(false);
    expect(verifyTwilio('12345', `${url}&x=1`, KNOWN_PARAMS, sig)).toBe(false);
    expect(verifyTwilio('12345', url, [...KNOWN_PARAMS.slice(1), ['CallSid', 'CA0']], sig)).toBe(false);
    expect(verifyTwilio('12345', url, KNOWN_PARAMS, undefined)).toBe(false);
    expect(verifyTwilio('12345', url, KNOWN_PARAMS, '')).toBe(false);
  });
});

describe('Plivo V3 signature', () => {
  const hmac = (s: string) => createHmac('sha256', 'plivotoken').update(s).digest('base64');

  it('when a POST has a query and a body, then the signed string is url?sorted-query.sorted-params.nonce', () => {
    const sig = plivoSignatureV3('plivotoken', 'POST', 'https://ivr.example.com/ivr/test/inbound?b=2&a=1', [['From', '919879964805'], ['CallUUID', 'abc']], 'n0nce');
    expect(sig).toBe(hmac('https://ivr.example.com/ivr/test/inbound?a=1&b=2.CallUUIDabcFrom919879964805.n0nce'));
  });

  it('when a POST has no query, or a GET has only a query, then the separators follow Plivo’s SDK', () => {
    expect(plivoSignatureV3('plivotoken', 'POST', 'https://h.example:8443/p', [['Digits', '1']], 'n')).toBe(hmac('https://h.example:8443/p?Digits1.n'));
    expect(plivoSignatureV3('plivotoken', 'GET', 'https://h.example/p?z=1&a=2', [], 'n')).toBe(hmac('https://h.example/p?a=2&z=1.n'));
    expect(plivoSignatureV3('plivotoken', 'POST', 'https://h.example/p', [], 'n')).toBe(hmac('https://h.example/p.n'));
  });

  it('when the header holds several signatures, then any one matching is enough; none matching fails', () => {
    const good = plivoSignatureV3('plivotoken', 'POST', 'https://h.example/p', [['A', '1']], 'n');
    expect(verifyPlivoV3('plivotoken', 'POST', 'https://h.example/p', [['A', '1']], `bogus=, ${good}`, 'n')).toBe(true);
    expect(verifyPlivoV3('plivotoken', 'POST', 'https://h.example/p', [['A', '1']], 'bogus=', 'n')).toBe(false);
    expect(verifyPlivoV3('plivotoken', 'POST', 'https://h.example/p', [['A', '1']], good, undefined)).toBe(false);
    expect(verifyPlivoV3('plivotoken', 'POST', 'https://h.example/p', [['A', '1']], good, 'other')).toBe(false);
  });
});

describe('signed /ivr requests', () => {
  let t: TestApp;
  afterEach(async () => t.close());
  const BASE = 'https://ivr.example.com';
  const form = { CallSid: 'CAsig', From: '+919879964805', To: '+918047112233' };
  const formPairs = Object.entries(form) as [string, string][];
  const plivoForm = { CallUUID: 'u-sig', From: '919879964805', To: '918047112233' };
  const plivoPairs = Object.entries(plivoForm) as [string, string][];

  async function setup(env: Record<string, string>) {
    t = buildTestApp({ PUBLIC_BASE_URL: BASE, PAUSE_CHANGES_PER_MINUTE: '0', ...env });
    await supertest(t.http).put('/admin/test/agents/9879964805').send({}).expect(201);
  }

  it('when TWILIO_AUTH_TOKEN is set, then a valid signature is served and a missing or wrong one gets 403 and changes nothing', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = '/ivr/test/inbound?lang=en';
    const before = await tableCounts(t);
    const missing = await supertest(t.http).post(path).type('form').send(form);
    expect(missing.status).toBe(403);
    expect(missing.type).toBe('application/xml');
    const wrong = await supertest(t.http).post(path).type('form').set('X-Twilio-Signature', twilioSignature('other', BASE + path, formPairs)).send(form);
    expect(wrong.status).toBe(403);
    expect(await tableCounts(t)).toEqual(before);
    const ok = await supertest(t.http).post(path).type('form').set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, formPairs)).send(form);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('now on break');
    // The token never reaches the logs.
    expect(t.logs.join('')).not.toContain('tw-secret');
  });

  it('when PLIVO_AUTH_TOKEN is set, then the V3 signature with its nonce is checked', async () => {
    await setup({ PLIVO_AUTH_TOKEN: 'pl-secret' });
    const path = '/ivr/test/inbound?dialect=plivo';
    const sig = plivoSignatureV3('pl-secret', 'POST', BASE + path, plivoPairs, 'nonce-1');
    const noNonce = await supertest(t.http).post(path).type('form').set('X-Plivo-Signature-V3', sig).send(plivoForm);
    expect(noNonce.status).toBe(403);
    const ok = await supertest(t.http).post(path).type('form').set({ 'X-Plivo-Signature-V3': sig, 'X-Plivo-Signature-V3-Nonce': 'nonce-1' }).send(plivoForm);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('<Speak');
  });

  it('when both tokens are set, then a valid signature of either platform is enough', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret', PLIVO_AUTH_TOKEN: 'pl-secret' });
    const path = '/ivr/test/inbound';
    const tw = await supertest(t.http).post(path).type('form').set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, formPairs)).send(form);
    expect(tw.status).toBe(200);
    const sig = plivoSignatureV3('pl-secret', 'POST', BASE + path, plivoPairs, 'n2');
    const pl = await supertest(t.http).post(path).type('form').set({ 'X-Plivo-Signature-V3': sig, 'X-Plivo-Signature-V3-Nonce': 'n2' }).send({ ...plivoForm, CallUUID: 'u-sig2' });
    expect(pl.status).toBe(403); // the body differs from what was signed
    const pl2 = await supertest(t.http).post(path).type('form').set({ 'X-Plivo-Signature-V3': sig, 'X-Plivo-Signature-V3-Nonce': 'n2' }).send(plivoForm);
    expect(pl2.status).toBe(200);
  });

  it('when a GET callback is signed, then the query is part of the signed URL', async () => {
    await setup({ TWILIO_AUTH_TOKEN: 'tw-secret' });
    const path = '/ivr/test/inbound?CallSid=ex1&From=%2B919879964805';
    const ok = await supertest(t.http).get(path).set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, []));
    expect(ok.status).toBe(200);
    const tampered = await supertest(t.http).get(path.replace('ex1', 'ex2')).set('X-Twilio-Signature', twilioSignature('tw-secret', BASE + path, []));
    expect(tampered.status).toBe(403);
  });
});
