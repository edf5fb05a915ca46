import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { simulateCall } from '../helpers/simulateCall.js';

const CLI = '+919879964805';
let t: TestApp;
const api = () => supertest(t.http);
const register = (body: object = { name: 'Asha' }, cli = '9879964805', stage = 'test') => api().put(`/admin/${stage}/agents/${cli}`).send(body);
const status = async (cli = CLI, stage = 'test') => (await api().get(`/admin/${stage}/agents/${encodeURIComponent(cli)}`)).body;
const events = async (stage = 'test') => (await api().get(`/admin/${stage}/events`)).body as { pause: boolean; reason: string | null; source: string; callId: string }[];

describe('inbound IVR, toggle mode', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  });
  afterEach(async () => t.close());

  it('when a registered agent calls, then the state flips, the caller hears it and the call hangs up', async () => {
    await register();
    const first = await simulateCall(t.http, { cli: CLI, callId: 'CA1' });
    expect(first.heard).toEqual(['Hello Asha.', 'You are now on break.', 'Goodbye.']);
    expect(first.hungUp).toBe(true);
    expect((await status()).pause).toBe(true);
    const second = await simulateCall(t.http, { cli: CLI, callId: 'CA2' });
    expect(second.heard).toEqual(['Hello Asha.', 'You are now available.', 'Goodbye.']);
    expect((await status()).pause).toBe(false);
    expect((await events()).map((e) => [e.pause, e.source, e.callId])).toEqual([
      [true, 'ivr', 'CA1'],
      [false, 'ivr', 'CA2'],
    ]);
  });

  it('when the platform retries the same call id and step, then the reply is the same and nothing toggles twice', async () => {
    await register();
    const form = { CallSid: 'CAretry', From: CLI, To: '+918000000000' };
    const a = await api().post('/ivr/test/inbound').type('form').send(form);
    const b = await api().post('/ivr/test/inbound').type('form').send(form);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect((await status()).pause).toBe(true);
    expect(await events()).toHaveLength(1);
  });

  it('when the agent prefers Hindi or the call asks for it, then the prompts are Hindi', async () => {
    await register({ name: 'Asha', language: 'hi' });
    const call = await simulateCall(t.http, { cli: CLI });
    expect(call.heard).toEqual(['नमस्ते Asha।', 'अब आप ब्रेक पर हैं।', 'धन्यवाद।']);
    expect(call.turns[0]!.xml).toContain('language="hi-IN"');
    const en = await simulateCall(t.http, { cli: CLI, url: '/ivr/test/inbound?lang=en' });
    expect(en.heard[1]).toBe('You are now available.');
  });

  it('when the caller is unknown, withheld or missing, then a not-registered prompt is spoken and nothing is stored', async () => {
    await register();
    const before = await tableCounts(t);
    for (const cli of ['+919879964806', 'anonymous', 'client:alice', '']) {
      const call = await simulateCall(t.http, { cli });
      expect(call.turns[0]!.status).toBe(200);
      expect(call.heard).toEqual(['This number is not registered as an agent. Please contact your supervisor. Goodbye.']);
      expect(call.hungUp).toBe(true);
    }
    const bare = await api().post('/ivr/test/inbound');
    expect(bare.status).toBe(200);
    expect(bare.type).toBe('application/xml');
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when the request is not a call at all, then the status of 1.1 comes back in XML', async () => {
    const big = await api().post('/ivr/test/inbound').type('form').send(`From=${'9'.repeat(70 * 1024)}`);
    expect(big.status).toBe(413);
    expect(big.type).toBe('application/xml');
    expect(big.text).toContain('<code>PAYLOAD_TOO_LARGE</code>');
    const put = await api().put('/ivr/test/inbound');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toContain('POST');
  });

  it('when the agent name holds XML characters, then the reply escapes them and still parses', async () => {
    await register({ name: `<Ravi & "Sons"> 'x'` });
    const r = await api().post('/ivr/test/inbound').type('form').send({ CallSid: 'CAx', From: CLI });
    expect(XMLValidator.validate(r.text)).toBe(true);
    expect(r.text).toContain('&lt;Ravi &amp; "Sons"&gt;');
    const call = await simulateCall(t.http, { cli: CLI, dialect: 'plivo' });
    expect(call.heard[0]).toBe(`Hello <Ravi & "Sons"> 'x'.`);
  });

  it('when /ivr/inbound is called, then it works on the prod agents and a test agent is unknown there', async () => {
    await register({ name: 'Prod' }, '9879964805', 'prod');
    const call = await simulateCall(t.http, { cli: CLI, url: '/ivr/inbound' });
    expect(call.heard).toContain('You are now on break.');
    expect((await status(CLI, 'prod')).pause).toBe(true);
    expect((await api().get('/admin/test/agents/9879964805')).status).toBe(404);
    expect((await api().post('/ivr/staging/inbound').type('form').send({ From: CLI })).status).toBe(404);
  });

  it('when the per-agent limit is reached, then the caller hears it in a 200 reply and nothing changes', async () => {
    await t.close();
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '1' });
    await register();
    await simulateCall(t.http, { cli: CLI });
    const before = await events();
    const limited = await simulateCall(t.http, { cli: CLI });
    expect(limited.turns[0]!.status).toBe(200);
    expect(limited.heard).toEqual(['You have changed your status too many times. Please try again in a minute. Goodbye.']);
    expect(await events()).toEqual(before);
    expect((await status()).pause).toBe(true);
  });

  it('when the platform retries a step that changed the state, then the retry hears the same reply and does not count against the per-agent limit', async () => {
    await t.close();
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '2' });
    await register();
    const call = (callId: string) => api().post('/ivr/test/inbound').type('form').send({ CallSid: callId, From: CLI });
    const first = await call('CAr1');
    expect(first.text).toContain('You are now on break.');
    for (let i = 0; i < 3; i++) expect((await call('CAr1')).text).toBe(first.text);
    expect((await call('CAr2')).text).toContain('You are now available.');
    expect((await call('CAr3')).text).toContain('too many times');
    expect((await events()).map((e) => e.callId)).toEqual(['CAr1', 'CAr2']);
  });

  it('when 50 calls toggle one agent at once, then the replies, the final state and the event log agree', async () => {
    await register();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api().post('/ivr/test/inbound').type('form').send({ CallSid: `CAc${i}`, From: CLI })),
    );
    const saidBreak = replies.filter((r) => r.text.includes('now on break')).length;
    const saidAvailable = replies.filter((r) => r.text.includes('now available')).length;
    expect(saidBreak + saidAvailable).toBe(50);
    const log = await events();
    expect(log).toHaveLength(50);
    expect(log.filter((e) => e.pause)).toHaveLength(saidBreak);
    // Strict alternation: every toggle saw the state the previous one left.
    log.forEach((e, i) => expect(e.pause).toBe(i % 2 === 0));
    expect((await status()).pause).toBe(log.at(-1)!.pause);
  });
});

describe('inbound IVR, menu mode', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu' });
  });
  afterEach(async () => t.close());

  it('when the agent presses 1 then a reason digit, then they go on break for that reason', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, digits: ['1', '2'] });
    expect(call.heard).toEqual([
      'Hello Asha.',
      'You are available.',
      'Press 1 to go on break. Press 2 to become available. Press 3 to hear this again.',
      'Choose the reason for your break.',
      'For lunch, press 1.',
      'For a tea break, press 2.',
      'For a meeting, press 3.',
      'For training, press 4.',
      'For a personal break, press 5.',
      'You are now on break for a tea break.',
      'Goodbye.',
    ]);
    expect(call.hungUp).toBe(true);
    expect(await status()).toMatchObject({ pause: true, reason: 'tea' });
  });

  it('when Exotel calls back with GET and its own query parameters, then the fresh digits are used, never a stale copy', async () => {
    await register();
    const first = await api().get('/ivr/test/inbound').query({ CallSid: 'EXget', CallFrom: '09879964805', CallTo: '08000000000', digits: '""', dialect: 'plivo' });
    const action = /action="([^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    const url = new URL(action, 'http://x');
    expect([...url.searchParams.keys()].sort()).toEqual(['dialect', 'miss', 'seq', 'step']);
    // Exotel appends its parameters to the action URL; the caller pressed 2 (become available) after 1 earlier.
    url.searchParams.set('CallSid', 'EXget');
    url.searchParams.set('CallFrom', '09879964805');
    url.searchParams.set('digits', '"1"');
    const second = await api().get(`${url.pathname}${url.search}`);
    expect(second.text).toContain('Choose the reason for your break.');
    const reasonAction = new URL(/action="([^"]+)"/.exec(second.text)![1]!.replace(/&amp;/g, '&'), 'http://x');
    reasonAction.searchParams.set('CallSid', 'EXget');
    reasonAction.searchParams.set('CallFrom', '09879964805');
    reasonAction.searchParams.set('digits', '"3"');
    await api().get(`${reasonAction.pathname}${reasonAction.search}`);
    expect(await status()).toMatchObject({ pause: true, reason: 'meeting' });
  });

  it('when an agent on break presses 2, then they become available; 3 repeats the menu', async () => {
    await register();
    await api().post('/admin/test/agents/9879964805/pause').send({ pause: true, reason: 'lunch' });
    const call = await simulateCall(t.http, { cli: CLI, digits: ['3', '2'] });
    expect(call.heard.filter((h) => h.startsWith('You'))).toEqual(['You are on break for lunch.', 'You are on break for lunch.', 'You are now available.']);
    expect((await status()).pause).toBe(false);
  });

  it('when a reason differs from the current break, then the break splits with one new event', async () => {
    await register();
    await simulateCall(t.http, { cli: CLI, digits: ['1', '1'] });
    t.clock.advance(60_000);
    await simulateCall(t.http, { cli: CLI, digits: ['1', '3'] });
    expect((await events()).map((e) => [e.pause, e.reason])).toEqual([
      [true, 'lunch'],
      [true, 'meeting'],
    ]);
  });

  it('when three wrong or missing inputs come in a row, then the caller hears goodbye and the call hangs up', async () => {
    await register();
    const wrong = await simulateCall(t.http, { cli: CLI, digits: ['9', '7', '#'] });
    expect(wrong.heard.filter((h) => h.startsWith('Sorry'))).toHaveLength(3);
    expect(wrong.heard.at(-1)).toBe('Goodbye.');
    expect(wrong.hungUp).toBe(true);
    const silent = await simulateCall(t.http, { cli: CLI });
    expect(silent.heard.filter((h) => h === 'We did not receive your choice.')).toHaveLength(3);
    expect(silent.hungUp).toBe(true);
    const inReasonMenu = await simulateCall(t.http, { cli: CLI, digits: ['1', '0', '0', '0'] });
    expect(inReasonMenu.hungUp).toBe(true);
    expect(inReasonMenu.unusedDigits).toEqual([]);
    expect(await events()).toEqual([]);
  });

  it('when the action URLs come back, then they stay within the stage and carry distinct steps', async () => {
    await register({}, '9879964805', 'prod');
    const call = await simulateCall(t.http, { cli: CLI, url: '/ivr/prod/inbound?dialect=plivo&lang=hi', dialect: 'plivo', digits: ['3', '3', '2'] });
    const urls = call.turns.slice(1).map((turn) => turn.request.url);
    expect(urls.every((u) => u.startsWith('/ivr/prod/inbound?') && u.includes('dialect=plivo') && u.includes('lang=hi'))).toBe(true);
    expect(new Set(urls).size).toBe(urls.length);
    expect((await status(CLI, 'prod')).pause).toBe(false);
    expect(call.heard.at(-2)).toBe('आप उपलब्ध हैं।');
  });

  it('when a menu step is replayed after the call moved on, then the stored reply comes back and nothing changes', async () => {
    await register();
    const call = await simulateCall(t.http, { cli: CLI, callId: 'CAmenu', digits: ['1', '4'] });
    expect((await status()).reason).toBe('training');
    await api().post('/admin/test/agents/9879964805/pause').send({ pause: false });
    const last = call.turns.at(-1)!;
    const again = await api().post(last.request.url).type('form').send(last.request.form);
    expect(again.text).toBe(last.xml);
    expect((await status()).pause).toBe(false);
  });
});

describe('inbound IVR dialects', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', IVR_MODE: 'menu' });
  });
  afterEach(async () => t.close());

  const TWIML = new Set(['Response', 'Say', 'Gather', 'Redirect', 'Hangup']);
  const PLIVO = new Set(['Response', 'Speak', 'GetInput', 'Redirect', 'Hangup']);
  const ATTRS: Record<string, Set<string>> = {
    Say: new Set(['language', 'voice']),
    Speak: new Set(['language', 'voice']),
    Gather: new Set(['input', 'numDigits', 'timeout', 'action', 'method', 'hints', 'language']),
    GetInput: new Set(['action', 'method', 'inputType', 'executionTimeout', 'numDigits', 'hints', 'language']),
    Redirect: new Set(['method']),
  };

  function elements(xml: string): { tag: string; attrs: string[] }[] {
    const out: { tag: string; attrs: string[] }[] = [];
    const walk = (nodes: Record<string, unknown>[]) => {
      for (const n of nodes) {
        const tag = Object.keys(n).find((k) => k !== ':@' && k !== '#text');
        if (!tag || tag === '?xml') continue;
        out.push({ tag, attrs: Object.keys((n[':@'] as object) ?? {}) });
        walk(n[tag] as Record<string, unknown>[]);
      }
    };
    walk(new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml));
    return out;
  }

  it.each([
    ['twiml', TWIML],
    ['plivo', PLIVO],
  ] as const)('when the dialect is %s, then every reply parses and uses only that dialect’s verbs and attributes', async (dialect, verbs) => {
    await register({ name: 'A&B' });
    const call = await simulateCall(t.http, { cli: CLI, dialect, digits: ['5', '1', '2'] });
    expect(call.turns.length).toBeGreaterThanOrEqual(3);
    for (const turn of call.turns) {
      expect(turn.status).toBe(200);
      expect(XMLValidator.validate(turn.xml)).toBe(true);
      for (const el of elements(turn.xml)) {
        expect(verbs.has(el.tag), `${dialect} ${el.tag}`).toBe(true);
        for (const a of el.attrs) expect(ATTRS[el.tag]?.has(a), `${el.tag}@${a}`).toBe(true);
      }
    }
    expect((await status()).reason).toBe('tea');
  });

  it('when IVR_DIALECT is plivo, then replies are Plivo XML without asking', async () => {
    await t.close();
    t = buildTestApp({ IVR_DIALECT: 'plivo', PAUSE_CHANGES_PER_MINUTE: '0' });
    await register();
    const r = await api().post('/ivr/test/inbound').type('form').send({ CallUUID: 'u1', From: '919879964805' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(r.text).toContain('<Speak');
    expect(r.text).not.toContain('<Say');
  });
});
