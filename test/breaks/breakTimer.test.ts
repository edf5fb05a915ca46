import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { AppDeps } from '../../src/deps.js';
import { loadIvrCatalog } from '../../src/ivr/ivr.catalog.js';
import { createPauseFeature } from '../../src/pause/pause.feature.js';
import type { PauseService } from '../../src/pause/pause.service.js';
import { createBreaksFeature } from '../../src/breaks/breaks.feature.js';
import { createBreakTimer, type BreakTimer } from '../../src/breaks/breakTimer.js';
import type { BreaksService } from '../../src/breaks/breaks.service.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

const CLI = '+919879964805';
const MIN = 60_000;

let t: TestApp;
let deps: AppDeps;
let pause: PauseService;
let breaks: BreaksService;
let timer: BreakTimer;

function build(env: Record<string, string>) {
  t = buildTestApp(
    { PAUSE_CHANGES_PER_MINUTE: '0', ...env },
    {
      features: (d) => {
        deps = d;
        const ivr = loadIvrCatalog(d.config.IVR_DIR, d.config.IVR_LANGUAGE);
        const p = createPauseFeature(d, ivr.languages);
        const b = createBreaksFeature(d, p.service, ivr.reasons);
        pause = p.service;
        breaks = b.service;
        timer = b.timer;
        return [p.feature, b.feature];
      },
    },
  );
}

async function onBreak(reason?: string) {
  await supertest(t.http).put(`/admin/test/agents/${CLI}`).send({ name: 'Asha' }).expect(201);
  await supertest(t.http)
    .post('/centraloutboundwebhook-v1/test/')
    .send({ method: 'updatePauseStatusForCLI', cli: CLI, pause: true, ...(reason ? { reason } : {}) })
    .expect(200);
}

const events = async () => (await supertest(t.http).get('/admin/test/events').expect(200)).body as { source: string; pause: boolean; at: string }[];
const status = async () => (await supertest(t.http).get(`/admin/test/agents/${CLI}`).expect(200)).body;

afterEach(async () => t.close());

describe('break timers', () => {
  it('when a break without a reason passes MAX_BREAK_MINUTES and AUTO_RESUME is on, then the agent is made available once with source auto', async () => {
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true' });
    await onBreak();
    t.clock.advance(30 * MIN);
    expect(await timer.sweep()).toBe(0);
    expect((await status()).pause).toBe(true);
    t.clock.advance(1_000);
    expect(await timer.sweep()).toBe(1);
    expect(await status()).toMatchObject({ pause: false, reason: null, since: '2026-01-15T10:30:01.000Z' });
    expect(await timer.sweep()).toBe(0);
    expect((await events()).map((e) => [e.pause, e.source])).toEqual([
      [true, 'webhook'],
      [false, 'auto'],
    ]);
  });

  it('when the service starts with a break already past its limit, then starting it resumes the agent without waiting', async () => {
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true' });
    await onBreak();
    t.clock.advance(90 * MIN);
    t.app.start();
    const end = Date.now() + 5_000;
    while ((await status()).pause && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toMatchObject({ pause: false });
    expect((await events()).at(-1)).toMatchObject({ pause: false, source: 'auto', at: '2026-01-15T11:30:00.000Z' });
  });

  it('when the reason has its own limit in ivr/menus.json, then that limit applies instead of the global one', async () => {
    build({ MAX_BREAK_MINUTES: '120', AUTO_RESUME: 'true' });
    await onBreak('tea'); // 15 minutes in ivr/menus.json
    t.clock.advance(16 * MIN);
    expect(await timer.sweep()).toBe(1);
    expect((await status()).pause).toBe(false);
  });

  it('when AUTO_RESUME is off, then a break over its limit is flagged and logged once, and the agent stays on break', async () => {
    build({ MAX_BREAK_MINUTES: '30' });
    await onBreak();
    t.clock.advance(45 * MIN);
    await timer.sweep();
    await timer.sweep();
    expect((await status()).pause).toBe(true);
    expect(t.logs.filter((l) => l.includes('break over its limit'))).toHaveLength(1);
    const r = await supertest(t.http).get('/admin/test/reports/breaks').expect(200);
    expect(r.body[0]).toMatchObject({ cli: CLI, onBreakNow: true, overLimit: true });
    const board = await supertest(t.http).get('/admin/test/board').expect(200);
    expect(board.text).toContain(`<tr data-cli="${CLI}" data-pause="true" data-over="true">`);
  });

  it('when the service restarts after the limit passed, then the first sweep resumes the agent, and sweeps racing it change nothing more', async () => {
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true' });
    await onBreak();
    // Down for an hour; a fresh timer (no memory, as after a restart) and a second one (another
    // sweep in flight) both find the break over its limit.
    t.clock.advance(60 * MIN);
    const afterRestart = createBreakTimer(deps, breaks, pause);
    const racing = createBreakTimer(deps, breaks, pause);
    const counts = await Promise.all([afterRestart.sweep(), racing.sweep(), timer.sweep()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await events()).filter((e) => e.source === 'auto')).toHaveLength(1);
  });

  it('when another change commits while a sweep is acting on the break, then auto-resume leaves the new state alone', async () => {
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true', PAUSE_CHANGES_PER_MINUTE: '10' });
    await onBreak();
    t.clock.advance(31 * MIN);
    // Another process commits a reason change right after the sweep has read the break (straight
    // to the store, as another instance would), before the sweep's own transaction.
    const read = t.stores.breaks.paused.bind(t.stores.breaks);
    let other: Awaited<ReturnType<typeof t.stores.pause.applyPauseChange>> | undefined;
    t.stores.breaks.paused = async () => {
      const found = await read();
      other = await t.stores.pause.applyPauseChange('test', CLI, () => ({ pause: true, reason: 'meeting' }), { at: t.clock.now(), source: 'webhook' });
      return found;
    };
    expect(await timer.sweep()).toBe(0);
    expect(other?.kind).toBe('applied');
    expect(await status()).toMatchObject({ pause: true, reason: 'meeting', since: '2026-01-15T10:31:00.000Z' });
    expect((await events()).filter((e) => e.source === 'auto')).toHaveLength(0);
  });

  it('when AUTO_RESUME ends a break, then "break over its limit" is logged once, by the sweep that ended it, marked autoResumed', async () => {
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true' });
    await onBreak();
    t.clock.advance(31 * MIN);
    await Promise.all([timer.sweep(), createBreakTimer(deps, breaks, pause).sweep()]);
    await timer.sweep();
    const lines = t.logs.filter((l) => l.includes('break over its limit'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ cli: CLI, limitMinutes: 30, autoResumed: true });
  });

  it('when the per-agent limit refuses the auto-resume, then the break is logged once while it stays over its limit', async () => {
    // The webhook's pause takes the agent's one change a minute; the timer's resume is refused.
    build({ MAX_BREAK_MINUTES: '30', AUTO_RESUME: 'true', PAUSE_CHANGES_PER_MINUTE: '1' });
    await onBreak();
    t.clock.advance(31 * MIN);
    expect(await timer.sweep()).toBe(0);
    expect(await timer.sweep()).toBe(0);
    expect((await status()).pause).toBe(true);
    const lines = t.logs.filter((l) => l.includes('break over its limit'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).autoResumed).toBeUndefined();
  });

  it('when the reason has no limit of its own and MAX_BREAK_MINUTES is 0, then the break is never ended', async () => {
    build({ AUTO_RESUME: 'true' });
    await onBreak('coaching');
    t.clock.advance(10 * 60 * MIN);
    expect(await timer.sweep()).toBe(0);
    expect((await status()).pause).toBe(true);
  });
});
