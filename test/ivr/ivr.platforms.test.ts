import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { simulateCall } from '../helpers/simulateCall.js';

/**
 * More platforms on /ivr (docs/http.md §10): Exotel's Passthru + Greeting, Telnyx TeXML, and
 * spoken choices. Exotel's applets as documented:
 * https://support.exotel.com/support/solutions/articles/48192-passthru-applet (reads only the
 * status: 200 first branch, 302 second) and
 * https://support.exotel.com/support/solutions/articles/3000024536-greeting-applet (a text URL is
 * fetched with HEAD, then GET; text/plain; HEAD returns the same headers).
 */

const CLI = '+919879964805';
let t: TestApp;
const api = () => supertest(t.http);
const register = (body: object = { name: 'Asha' }, cli = '9879964805') => api().put(`/admin/test/agents/${cli}`).send(body).expect(201);
const agent = async () => (await api().get('/admin/test/agents/9879964805')).body as { pause: boolean; reason: string | null };
const events = async () => (await api().get('/admin/test/events')).body as { pause: boolean; reason: string | null; callId: string }[];
const passthru = (q: Record<string, string>) => api().get('/ivr/test/inbound').query({ dialect: 'exotel', Direction: 'incoming', CallTo: '08047112233', digits: '""', ...q });

describe('Exotel Passthru and Greeting', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  });
  afterEach(async () => t.close());

  it('when a registered agent calls, then the Passthru toggles: 200 text/plain on break, 302 when available again', async () => {
    await register();
    const on = await passthru({ CallSid: 'ex-1', CallFrom: '09879964805' });
    expect(on.status).toBe(200);
    expect(on.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(on.text).toBe('Hello Asha. You are now on break. Goodbye.');
    expect((await agent()).pause).toBe(true);
    const off = await passthru({ CallSid: 'ex-2', CallFrom: '09879964805' });
    expect(off.status).toBe(302);
    expect(off.headers.location).toBeUndefined();
    expect(off.text).toBe('Hello Asha. You are now available. Goodbye.');
    expect((await events()).map((e) => [e.pause, e.callId])).toEqual([
      [true, 'ex-1'],
      [false, 'ex-2'],
    ]);
  });

  it('when the caller is unregistered or the agent is rate-limited, then 302 and the text says which; nothing changes', async () => {
    await t.close();
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '1' });
    await register();
    const before = await tableCounts(t);
    const unknown = await passthru({ CallSid: 'ex-u', CallFrom: '09879964806' });
    expect(unknown.status).toBe(302);
    expect(unknown.text).toContain('not registered');
    expect(await tableCounts(t)).toEqual(before);
    expect((await passthru({ CallSid: 'ex-a', CallFrom: '09879964805' })).status).toBe(200);
    const limited = await passthru({ CallSid: 'ex-b', CallFrom: '09879964805' });
    expect(limited.status).toBe(302);
    expect(limited.text).toContain('too many times');
    expect((await agent()).pause).toBe(true);
  });

  it('when Exotel retries a Passthru, then the same status and text come back and nothing toggles twice', async () => {
    await register();
    const a = await passthru({ CallSid: 'ex-r', CallFrom: '09879964805' });
    const b = await passthru({ CallSid: 'ex-r', CallFrom: '09879964805' });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.text).toBe(a.text);
    expect(await events()).toHaveLength(1);
  });

  it('when the Greeting fetches the say URL, then GET gives the call’s last words in the agent’s language and HEAD the same headers without a body', async () => {
    await register({ name: 'Asha', language: 'hi' });
    await passthru({ CallSid: 'ex-hi', CallFrom: '09879964805' });
    const get = await api().get('/ivr/test/exotel/say').query({ CallSid: 'ex-hi', From: '09879964805', To: '08047112233', DialWhomNumber: '', CustomField: '' });
    expect(get.status).toBe(200);
    expect(get.text).toBe('नमस्ते Asha। अब आप ब्रेक पर हैं। धन्यवाद।');
    const head = await api().head('/ivr/test/exotel/say').query({ CallSid: 'ex-hi', From: '09879964805' });
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    for (const h of ['content-type', 'content-length']) expect(head.headers[h], h).toBe(get.headers[h]);
    expect(get.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('when the say URL is asked for a call it has not seen, then it speaks the caller’s state, or not-registered', async () => {
    await register();
    const seen = await api().get('/ivr/test/exotel/say').query({ CallSid: 'never', From: '09879964805' });
    expect(seen.text).toBe('You are available.');
    const unknown = await api().get('/ivr/test/exotel/say').query({ CallSid: 'never2', From: '09879964806' });
    expect(unknown.text).toContain('not registered');
    expect((await api().post('/ivr/test/exotel/say')).status).toBe(405);
    expect((await api().get('/ivr/staging/exotel/say')).status).toBe(404);
  });

  it('when simulateCall plays an Exotel call, then it follows the Passthru branch and the Greeting’s HEAD and GET', async () => {
    await register();
    const on = await simulateCall(t.http, { cli: CLI, dialect: 'exotel', callId: 'ex-sim1' });
    expect(on.branch).toBe(1);
    expect(on.turns.map((x) => `${x.request.method} ${x.status}`)).toEqual(['GET 200', 'HEAD 200', 'GET 200']);
    expect(on.heard).toEqual(['Hello Asha. You are now on break. Goodbye.']);
    const off = await simulateCall(t.http, { cli: CLI, dialect: 'exotel', callId: 'ex-sim2' });
    expect(off.branch).toBe(2);
    expect(off.heard).toEqual(['Hello Asha. You are now available. Goodbye.']);
    const prod = await simulateCall(t.http, { cli: CLI, dialect: 'exotel', url: '/ivr/inbound?dialect=exotel' });
    expect(prod.branch).toBe(2);
    expect(prod.turns[1]!.request.url).toBe('/ivr/exotel/say');
    expect(prod.heard[0]).toContain('not registered');
  });

  it('when IVR_MODE is menu, then an Exotel Passthru still toggles (it cannot gather)', async () => {
    await t.close();
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu' });
    await register();
    expect((await passthru({ CallSid: 'ex-m', CallFrom: '09879964805' })).status).toBe(200);
    expect((await agent()).pause).toBe(true);
  });
});

describe('Telnyx TeXML', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu' });
  });
  afterEach(async () => t.close());

  it('when dialect=texml, then the reply is TwiML verbs with the TwiML voice, and a TeXML call plays through', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, dialect: 'texml', digits: ['1', '3'] });
    expect(call.turns[0]!.xml).toContain('<Gather input="dtmf speech"');
    expect(call.turns[0]!.xml).toContain('<Say language="en-IN" voice="Polly.Aditi">');
    expect(call.turns.every((x) => x.request.url.includes('dialect=texml'))).toBe(true);
    expect(await agent()).toMatchObject({ pause: true, reason: 'meeting' });
  });
});

describe('spoken choices', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu' });
  });
  afterEach(async () => t.close());

  it('when the caller says a reason at the menu, then they are on break for it at once (TwiML SpeechResult)', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, digits: ['said:Lunch, please.'] });
    expect(call.heard.at(-2)).toBe('You are now on break for lunch.');
    expect(await agent()).toMatchObject({ pause: true, reason: 'lunch' });
  });

  it('when the caller says "break" then a reason, or "available", then the same choices as the digits are made (Plivo Speech)', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, dialect: 'plivo', digits: ['said:I want a break', 'said:training'] });
    expect(call.heard).toContain('Choose the reason for your break.');
    expect(await agent()).toMatchObject({ pause: true, reason: 'training' });
    await simulateCall(t.http, { cli: CLI, dialect: 'plivo', digits: ['said:available'] });
    expect((await agent()).pause).toBe(false);
  });

  it('when the caller speaks Hindi, then the Hindi words pick the same choices', async () => {
    await register({ name: 'Asha', language: 'hi' });
    await simulateCall(t.http, { cli: CLI, digits: ['said:मुझे चाय चाहिए'] });
    expect(await agent()).toMatchObject({ pause: true, reason: 'tea' });
    await simulateCall(t.http, { cli: CLI, digits: ['said:उपलब्ध'] });
    expect((await agent()).pause).toBe(false);
  });

  it('when the words pick nothing or contradict each other, then it is a wrong input and nothing changes', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, digits: ['said:banana', 'said:back from lunch', 'said:hmm'] });
    expect(call.heard.filter((h) => h.startsWith('Sorry'))).toHaveLength(3);
    expect(call.hungUp).toBe(true);
    expect(await events()).toEqual([]);
  });

  it('when IVR_SPEECH is false, then the gathers take digits only (Plivo GetDigits)', async () => {
    await t.close();
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu', IVR_SPEECH: 'false' });
    await register();
    const tw = await simulateCall(t.http, { cli: CLI });
    expect(tw.turns[0]!.xml).toContain('<Gather input="dtmf" numDigits="1"');
    expect(tw.turns[0]!.xml).not.toContain('hints=');
    const pl = await simulateCall(t.http, { cli: CLI, dialect: 'plivo', digits: ['2'] });
    expect(pl.turns[0]!.xml).toContain('<GetDigits action=');
  });
});
