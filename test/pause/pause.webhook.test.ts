import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const CLI = '+919879964805';
let t: TestApp;

const hook = (body: unknown, stage = 'test') =>
  supertest(t.http).post(`/centraloutboundwebhook-v1/${stage}/`).send(body as object);
const register = (cli = '9879964805', body: object = { name: 'Asha' }, stage = 'test') =>
  supertest(t.http).put(`/admin/${stage}/agents/${cli}`).send(body).expect((r) => expect([200, 201]).toContain(r.status));

describe('updatePauseStatusForCLI', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  });
  afterEach(async () => t.close());

  it('when a registered agent is paused, then the reply reports the change and since is now', async () => {
    await register();
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: '9879964805', pause: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ cli_pause_update: true, cli: CLI, pause: true, changed: true, since: '2026-01-15T10:00:00.000Z' });
  });

  it('when the agent already has the asked state, then changed is false, since is kept and no event is added', async () => {
    await register();
    await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    t.clock.advance(60_000);
    const before = await tableCounts(t);
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: 'yes' });
    expect(r.body).toEqual({ cli_pause_update: true, cli: CLI, pause: true, changed: false, since: '2026-01-15T10:00:00.000Z' });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a newly registered agent is asked to be available, then nothing changes and since is null', async () => {
    await register();
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: false });
    expect(r.body).toMatchObject({ cli_pause_update: true, pause: false, changed: false, since: null });
  });

  it('when every spelling of the number is used, then they all reach the same agent', async () => {
    await register('09879964805');
    let pause = true;
    for (const cli of ['9879964805', '919879964805', '+91 98799-64805', '09879964805', '(98799) 64805', '+919879964805']) {
      const r = await hook({ method: 'updatePauseStatusForCLI', cli, pause });
      expect(r.status, cli).toBe(200);
      expect(r.body).toMatchObject({ cli: CLI, pause, changed: true });
      pause = !pause;
      t.clock.advance(1000);
    }
  });

  it('when the flow variable names and a form body are used, then they work like short names', async () => {
    await register();
    const r = await supertest(t.http)
      .post('/centraloutboundwebhook-v1/test')
      .type('form')
      .send({ method: 'updatePauseStatusForCLI', '$flow.key.cli': '9879964805', '$flow.key.Pause': '1' });
    expect(r.status).toBe(200);
    expect(r.body.pause).toBe(true);
  });

  it('when the request is XML, then the reply is XML with the same fields', async () => {
    await register();
    const r = await supertest(t.http)
      .post('/centraloutboundwebhook-v1/test/')
      .set('Content-Type', 'application/xml')
      .send('<request><method>updatePauseStatusForCLI</method><cli>9879964805</cli><pause>true</pause><reason>lunch</reason></request>');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/xml');
    const doc = new XMLParser({ parseTagValue: false }).parse(r.text);
    expect(doc.response).toEqual({ cli_pause_update: 'true', cli: CLI, pause: 'true', changed: 'true', since: '2026-01-15T10:00:00.000Z' });
  });

  it('when the agent is not registered, then 404 AGENT_NOT_FOUND with cli_pause_update false and nothing stored', async () => {
    const before = await tableCounts(t);
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ cli_pause_update: false, error: { code: 'AGENT_NOT_FOUND' } });
    expect(await tableCounts(t)).toEqual(before);
  });

  it.each([
    [{ cli: CLI }, 400, 'MISSING_PARAMETER', 'pause'],
    [{ pause: true }, 400, 'MISSING_PARAMETER', 'cli'],
    [{ cli: CLI, pause: 'maybe' }, 400, 'INVALID_PARAMETER', 'pause'],
    [{ cli: 'anonymous', pause: true }, 400, 'INVALID_PARAMETER', 'cli'],
    [{ cli: '12345', pause: true }, 400, 'INVALID_PARAMETER', 'cli'],
    [{ cli: [CLI, CLI], pause: true }, 400, 'INVALID_PARAMETER', 'cli'],
    [{ cli: CLI, pause: true, reason: 'x'.repeat(65) }, 400, 'INVALID_PARAMETER', 'reason'],
  ])('when the params are %j, then %i %s naming %s and nothing changes', async (params, status, code, field) => {
    await register();
    const before = await tableCounts(t);
    const r = await hook({ method: 'updatePauseStatusForCLI', ...params });
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ cli_pause_update: false, error: { code, field } });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when a reason is given, then it is kept while paused and a new reason splits the break', async () => {
    await register();
    await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'lunch' });
    t.clock.advance(10 * 60_000);
    const same = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'lunch' });
    expect(same.body.changed).toBe(false);
    const noReason = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    expect(noReason.body.changed).toBe(false);
    const split = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'meeting' });
    expect(split.body).toMatchObject({ changed: true, pause: true, since: '2026-01-15T10:10:00.000Z' });
    const status = await hook({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(status.body).toEqual({ cli: CLI, name: 'Asha', pause: true, reason: 'meeting', since: '2026-01-15T10:10:00.000Z' });
    t.clock.advance(60_000);
    await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: false, reason: 'ignored' });
    const events = await supertest(t.http).get(`/admin/test/events?cli=${encodeURIComponent(CLI)}`);
    expect(events.body.map((e: { pause: boolean; reason: string | null; at: string }) => [e.pause, e.reason, e.at])).toEqual([
      [true, 'lunch', '2026-01-15T10:00:00.000Z'],
      [true, 'meeting', '2026-01-15T10:10:00.000Z'],
      [false, null, '2026-01-15T10:11:00.000Z'],
    ]);
    expect(events.body[0]).toEqual({ at: '2026-01-15T10:00:00.000Z', cli: CLI, pause: true, reason: 'lunch', source: 'webhook', callId: null });
  });

  it('when the stages differ, then an agent of test is unknown in prod', async () => {
    await register();
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true }, 'prod');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('AGENT_NOT_FOUND');
  });

  it('when 50 changes for one agent arrive at once, then replies, final state and event log agree', async () => {
    await register();
    const wants = Array.from({ length: 50 }, (_, i) => i % 3 !== 0);
    const replies = await Promise.all(
      wants.map((pause, i) => {
        t.clock.advance(1);
        return hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause, reason: i % 5 === 0 ? `r${i}` : undefined });
      }),
    );
    for (const r of replies) expect(r.status).toBe(200);
    const changed = replies.filter((r) => r.body.changed);
    const events = (await supertest(t.http).get('/admin/test/events').query({ limit: 1000 })).body as { pause: boolean; at: string }[];
    expect(events).toHaveLength(changed.length);
    // Each changing reply corresponds to one event carrying the same state and time.
    const fromReplies = changed.map((r) => `${r.body.pause}@${r.body.since}`).sort();
    expect(events.map((e) => `${e.pause}@${e.at}`).sort()).toEqual(fromReplies);
    const status = await hook({ method: 'getPauseStatusForCLI', cli: CLI });
    expect(status.body.pause).toBe(events.at(-1)!.pause);
    // Consecutive events never repeat "available" (a no-op is never logged).
    for (let i = 1; i < events.length; i++) expect(events[i]!.pause || events[i - 1]!.pause).toBe(true);
  });

  it('when a change is committed, then pauseChange is emitted and pause_changes_total counts it', async () => {
    await register();
    const seen: unknown[] = [];
    t.bus.on('pauseChange', (e) => seen.push(e));
    await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'tea' });
    await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, reason: 'tea' });
    expect(seen).toEqual([
      { stage: 'test', at: '2026-01-15T10:00:00.000Z', cli: CLI, name: 'Asha', pause: true, reason: 'tea', source: 'webhook', callId: null },
    ]);
    const metrics = await supertest(t.http).get('/metrics');
    expect(metrics.text).toMatch(/pause_changes_total\{stage="test",source="webhook",pause="true"\} 1/);
  });

  it('when a bus listener throws, then the change still succeeds', async () => {
    await register();
    t.bus.on('pauseChange', () => {
      throw new Error('listener broke');
    });
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    expect(r.status).toBe(200);
    expect(r.body.changed).toBe(true);
  });
});

describe('per-agent change limit', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '2' });
  });
  afterEach(async () => t.close());

  it('when an agent changes more often than PAUSE_CHANGES_PER_MINUTE, then 429 with Retry-After and nothing changes', async () => {
    await register();
    await register('9879964806');
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true })).status).toBe(200);
    // Asking for the current state is not a change and does not use up the limit.
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true })).status).toBe(200);
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: false })).status).toBe(200);
    const before = await tableCounts(t);
    const r = await hook({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    expect(r.body).toMatchObject({ cli_pause_update: false, error: { code: 'RATE_LIMITED' } });
    expect(await tableCounts(t)).toEqual(before);
    expect((await hook({ method: 'getPauseStatusForCLI', cli: CLI })).body.pause).toBe(false);
    // Another agent has its own budget.
    expect((await hook({ method: 'updatePauseStatusForCLI', cli: '9879964806', pause: true })).status).toBe(200);
  });
});

describe('getPauseStatusForCLI', () => {
  beforeEach(() => {
    t = buildTestApp();
  });
  afterEach(async () => t.close());

  it('when the agent never changed, then reason and since are null', async () => {
    await register('9879964805', { name: 'Asha' });
    const r = await hook({ method: 'getPauseStatusForCLI', cli: '09879964805' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ cli: CLI, name: 'Asha', pause: false, reason: null, since: null });
  });

  it('when the agent is unknown or the cli is missing, then 404 / 400', async () => {
    expect((await hook({ method: 'getPauseStatusForCLI', cli: CLI })).body.error.code).toBe('AGENT_NOT_FOUND');
    const r = await hook({ method: 'getPauseStatusForCLI' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'MISSING_PARAMETER', field: 'cli' });
  });
});
