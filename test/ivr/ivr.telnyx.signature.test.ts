import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { ed25519PublicKey, verifyTelnyx } from '../../src/ivr/ivr.signature.js';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

/**
 * Telnyx webhook signatures (docs/http.md §10): `telnyx-signature-ed25519` is the base64 ed25519
 * signature of `telnyx-timestamp|raw body`, verified with the base64 public key from the portal
 * (https://developers.telnyx.com/docs/development/sdk/node/webhooks; the same SPKI prefix and
 * 300 s tolerance as Telnyx's Ruby SDK, lib/telnyx/lib/webhook_verification.rb; the headers as
 * listed on https://developers.telnyx.com/api-reference/callbacks/texml-call-answered).
 * Telnyx publishes no fixed test vector (its own SDK test signs with a fresh key pair), so the
 * raw-key import is checked with RFC 8032 §7.1 TEST 2 and the scheme with a key pair made here.
 */

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

describe('ed25519 as Telnyx uses it', () => {
  it('when given RFC 8032 TEST 2 (public key, message 0x72, signature), then it verifies; a flipped bit does not', () => {
    const key = ed25519PublicKey(b64('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'));
    const sig = '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00';
    // TEST 2's message is the single byte 0x72 (no `timestamp|` in front), so the imported key is checked with node's verify.
    const message = Buffer.from([0x72]);
    expect(verify(null, message, key, Buffer.from(sig, 'hex'))).toBe(true);
    const bad = Buffer.from(sig, 'hex');
    bad[10]! ^= 1;
    expect(verify(null, message, key, bad)).toBe(false);
  });

  it('when a key pair made here signs timestamp|body, then it verifies, and any change to timestamp, body or key fails', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    const key = ed25519PublicKey(raw);
    const body = Buffer.from('CallSid=v3%3Aabc&From=%2B919879964805');
    const sig = sign(null, Buffer.concat([Buffer.from('1700000000|'), body]), privateKey).toString('base64');
    expect(verifyTelnyx(key, '1700000000', body, sig)).toBe(true);
    expect(verifyTelnyx(key, '1700000001', body, sig)).toBe(false);
    expect(verifyTelnyx(key, '1700000000', Buffer.from(`${body}&x=1`), sig)).toBe(false);
    expect(verifyTelnyx(ed25519PublicKey(b64('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c')), '1700000000', body, sig)).toBe(false);
    expect(verifyTelnyx(key, undefined, body, sig)).toBe(false);
    expect(verifyTelnyx(key, '1700000000', body, undefined)).toBe(false);
    expect(verifyTelnyx(key, '1700000000', body, 'not-a-signature')).toBe(false);
  });

  it('when TELNYX_PUBLIC_KEY is not a 32-byte base64 key, then start-up stops naming it', () => {
    expect(() => loadConfig({ TELNYX_PUBLIC_KEY: 'abc' })).toThrow(/^Invalid configuration: TELNYX_PUBLIC_KEY /);
    expect(loadConfig({ TELNYX_PUBLIC_KEY: b64('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c') }).TELNYX_PUBLIC_KEY).toBeDefined();
  });
});

describe('signed Telnyx callbacks on /ivr', () => {
  let t: TestApp;
  afterEach(async () => t.close());
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const TELNYX_PUBLIC_KEY = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  const telnyxHeaders = (body: string, timestamp: number) => ({
    'telnyx-timestamp': String(timestamp),
    'telnyx-signature-ed25519': sign(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString('base64'),
  });

  it('when a TeXML callback is signed within 5 minutes, then it is served; older or newer than that, or tampered, then 403 and nothing changes', async () => {
    t = buildTestApp({ TELNYX_PUBLIC_KEY, PAUSE_CHANGES_PER_MINUTE: '0' });
    await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
    const now = Math.floor(t.clock.now() / 1000);
    const body = (sid: string) => new URLSearchParams({ CallSid: sid, From: '+919879964805', To: '+918047112233', CallStatus: 'ringing' }).toString();
    const before = await tableCounts(t);
    const stale = await supertest(t.http).post('/ivr/test/inbound').set(telnyxHeaders(body('v3:a'), now - 301)).type('form').send(body('v3:a'));
    expect(stale.status).toBe(403);
    expect(stale.text).toContain('5 minutes');
    const future = await supertest(t.http).post('/ivr/test/inbound').set(telnyxHeaders(body('v3:b'), now + 301)).type('form').send(body('v3:b'));
    expect(future.status).toBe(403);
    const tampered = await supertest(t.http).post('/ivr/test/inbound').set(telnyxHeaders(body('v3:c'), now)).type('form').send(body('v3:d'));
    expect(tampered.status).toBe(403);
    const unsigned = await supertest(t.http).post('/ivr/test/inbound').type('form').send(body('v3:e'));
    expect(unsigned.status).toBe(403);
    expect(await tableCounts(t)).toEqual(before);
    const ok = await supertest(t.http).post('/ivr/test/inbound').set(telnyxHeaders(body('v3:ok'), now - 299)).type('form').send(body('v3:ok'));
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('now on break');
  });

  it('when a Telnyx-signed body lacks CallSid, or names the caller only in the unsigned query, then 403 and nothing changes', async () => {
    t = buildTestApp({ TELNYX_PUBLIC_KEY, PAUSE_CHANGES_PER_MINUTE: '0' });
    await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
    const now = Math.floor(t.clock.now() / 1000);
    const before = await tableCounts(t);
    const noSid = new URLSearchParams({ From: '+919879964805' }).toString();
    expect((await supertest(t.http).post('/ivr/test/inbound').set(telnyxHeaders(noSid, now)).type('form').send(noSid)).status).toBe(403);
    // Telnyx signs the body alone: a CallSid in the query is not covered and does not count.
    const r = await supertest(t.http).post('/ivr/test/inbound?CallSid=v3:q').set(telnyxHeaders(noSid, now)).type('form').send(noSid);
    expect(r.status).toBe(403);
    expect(await tableCounts(t)).toEqual(before);
  });
});
