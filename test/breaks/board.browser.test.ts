import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { freePort, listen } from '../helpers/listen.js';
import { ROOT, startServiceProcess, type ServiceProcess } from '../helpers/service.js';

/**
 * The supervisor board in a real browser: Debian's Chromium (`.ci/run` installs it) driven by
 * playwright-core. These tests FAIL when Chromium is missing: the board is what supervisors use,
 * so CI must not pass without having opened it. Screenshots are kept in test-artifacts/.
 */

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = resolve(ROOT, 'test-artifacts');
const ADMIN = 'admin-token-0123456789';
const BOARD = 'board-token-9876543210';
const ASHA = '+919879964805';
const RAVI = '+919811112222';

let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for the board tests: install Debian's chromium (${CHROMIUM}); .ci/run does`);
  profile = mkdtempSync(join(tmpdir(), 'cw-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // A refused stream during a restart is the browser's own network message, not a page error.
    if (m.type() === 'error' && !/ERR_CONNECTION_REFUSED|503|Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

async function signIn(page: Page, url: string, token: string, path = '/admin/test/board'): Promise<void> {
  await context.clearCookies();
  const r = await page.goto(url + path);
  expect(r?.status()).toBe(401);
  await page.fill('input[name="token"]', token);
  await Promise.all([page.waitForURL(url + path), page.click('button[type="submit"]')]);
  await page.waitForSelector('body[data-live="true"]', { timeout: 15_000 });
}

describe('supervisor board in Chromium (in-process service)', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(server.url + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(r.status).toBeLessThan(300);
  };
  const setPause = (cli: string, pause: boolean, reason?: string) =>
    call('POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli, pause, ...(reason ? { reason } : {}) });

  beforeAll(async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', ADMIN_TOKEN: ADMIN, BOARD_TOKEN: BOARD });
    server = await listen(t.http);
    await call('PUT', `/admin/test/agents/${ASHA}`, { name: 'Asha' });
    await call('PUT', `/admin/test/agents/${RAVI}`, { name: 'Ravi <b>' });
    await setPause(ASHA, true, 'lunch');
    t.clock.advance(20 * 60_000);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('when a supervisor signs in with the board token, then the board is live, pause changes update it without a reload, and the tab title counts who is on break', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page, server.url, BOARD);

    const asha = page.locator(`tr[data-cli="${ASHA}"]`);
    const ravi = page.locator(`tr[data-cli="${RAVI}"]`);
    expect(await asha.locator('td.status').textContent()).toBe('On break');
    expect(await asha.locator('td.for').textContent()).toMatch(/^20:\d\d$/);
    // lunch has a 45-minute limit: about 25 minutes left.
    expect(await asha.locator('td.left').textContent()).toMatch(/^(24|25):\d\d left$/);
    expect(await ravi.locator('td.agent .name').textContent()).toBe('Ravi <b>');
    expect(await ravi.locator('td.status').textContent()).toBe('Available');
    expect(await page.title()).toBe('(1) Breaks · test');
    await page.evaluate(() => ((window as unknown as { boardMark: number }).boardMark = 42));

    await setPause(RAVI, true, 'tea');
    await page.waitForSelector(`tr[data-cli="${RAVI}"][data-pause="true"]`, { timeout: 10_000 });
    expect(await ravi.locator('td.reason').textContent()).toBe('tea');
    expect(await ravi.locator('td.left').textContent()).toMatch(/^1[45]:\d\d left$/);
    await page.waitForFunction(() => document.title === '(2) Breaks · test');
    // Each reason has its own colour, on the chip and the timeline.
    const colour = (cli: string) => page.locator(`tr[data-cli="${cli}"] td.reason .chip`).evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(await colour(ASHA)).not.toBe(await colour(RAVI));

    await setPause(ASHA, false);
    await page.waitForSelector(`tr[data-cli="${ASHA}"][data-pause="false"]`, { timeout: 10_000 });
    expect(await asha.locator('.track .seg').count()).toBe(1);
    expect(await asha.locator('td.today').textContent()).toMatch(/^1 · 20:\d\d$/);
    await page.waitForFunction(() => document.title === '(1) Breaks · test');

    // The read-only login cannot change anything, even from the page's own origin.
    const refused = await page.evaluate(async (cli) => (await fetch(`/admin/test/agents/${cli}/pause`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"pause":true}' })).status, ASHA);
    expect(refused).toBe(403);

    expect(await page.evaluate(() => (window as unknown as { boardMark?: number }).boardMark)).toBe(42);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'board-live.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('when agents are added, renamed and removed, then the open board shows it at once; search, filters and sort narrow the rows', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page, server.url, ADMIN);

    await call('PUT', '/admin/test/agents/9000000001', { name: 'Meera' });
    await page.waitForSelector('tr[data-cli="+919000000001"]', { timeout: 10_000 });
    expect(await page.locator('tr[data-cli="+919000000001"] td.status').textContent()).toBe('Available');
    await call('PUT', '/admin/test/agents/9000000001', { name: 'Meera K' });
    await page.waitForFunction(() => document.querySelector('tr[data-cli="+919000000001"] .name')?.textContent === 'Meera K', undefined, { timeout: 10_000 });
    await call('DELETE', `/admin/test/agents/${RAVI}`);
    await page.waitForSelector(`tr[data-cli="${RAVI}"]`, { state: 'detached', timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('agents')?.textContent === '2');

    const shown = () => page.locator('#board tbody tr:not([hidden])').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.cli));
    await page.fill('#search', 'meera');
    expect(await shown()).toEqual(['+919000000001']);
    await page.fill('#search', '98799-64');
    expect(await shown()).toEqual([ASHA]);
    await page.fill('#search', '');
    await setPause('9000000001', true, 'meeting');
    await page.waitForSelector('tr[data-cli="+919000000001"][data-pause="true"]');
    await page.selectOption('#f-state', 'available');
    expect(await shown()).toEqual([ASHA]);
    await page.selectOption('#f-state', '');
    await page.selectOption('#f-reason', 'meeting');
    expect(await shown()).toEqual(['+919000000001']);
    await page.selectOption('#f-reason', '');
    await page.check('#f-over');
    expect(await shown()).toEqual([]);
    expect(await page.locator('#empty').isVisible()).toBe(true);
    // Over the meeting's 60-minute limit: the row is flagged and the filter shows it.
    t.clock.advance(61 * 60_000);
    await page.reload();
    await page.waitForSelector('body[data-live="true"]');
    await page.check('#f-over');
    expect(await shown()).toEqual(['+919000000001']);
    expect(await page.locator('tr[data-cli="+919000000001"] td.left').textContent()).toMatch(/^1:\d\d over$/);
    await page.uncheck('#f-over');
    await page.selectOption('#sort', 'name');
    expect(await shown()).toEqual([ASHA, '+919000000001']);

    // Wallboard: large type, controls hidden.
    const before = await page.locator('td.agent .name').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    await page.click('#wall');
    expect(await page.locator('body.wall').count()).toBe(1);
    expect(await page.locator('.tools').isVisible()).toBe(false);
    expect(await page.locator('td.agent .name').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThan(before);
    await page.screenshot({ path: join(ARTIFACTS, 'board-wallboard.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('when opened on a phone in dark mode, then rows become cards in dark colours', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}/admin/test/board`);
    await page.waitForSelector('body[data-live="true"]');
    expect(await page.locator('#board thead').isVisible()).toBe(false);
    expect(await page.locator('#board tbody tr').first().evaluate((e) => getComputedStyle(e).display)).toBe('grid');
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g)!.map(Number);
    expect(r! + g! + b!).toBeLessThan(150);
    // No sideways scrolling on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'board-phone-dark.png'), fullPage: true });
    await page.close();
  }, 60_000);
});

describe('supervisor board in Chromium across a restart (service process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-board-restart-'));
  const env = { DATABASE_PATH: join(dir, 'central.db'), ADMIN_TOKEN: ADMIN, PAUSE_CHANGES_PER_MINUTE: '0' };
  const services: ServiceProcess[] = [];
  const start = (port: number) => {
    const s = startServiceProcess({ ...env, PORT: String(port) });
    services.push(s);
    return s;
  };
  afterAll(() => {
    for (const s of services) s.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (url: string, method: string, path: string, body: unknown) => {
    const r = await fetch(url + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body) });
    expect(r.status).toBeLessThan(300);
  };

  it('when SIGTERM arrives with the board open, then the process exits 0 within 2 s, the page says it is not live, and after the restart it reconnects and shows what changed meanwhile', async () => {
    const port = await freePort();
    const first = start(port);
    const url = await first.ready;
    await api(url, 'PUT', `/admin/prod/agents/${ASHA}`, { name: 'Asha' });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page, url, ADMIN, '/admin/prod/board');
    expect(await page.locator(`tr[data-cli="${ASHA}"] td.status`).textContent()).toBe('Available');

    const signalled = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    await page.waitForSelector('body[data-live="false"]', { timeout: 5_000 });
    expect(await page.locator('#live').textContent()).toBe('not live');
    expect(await page.locator('#stale').isVisible()).toBe(true);
    await page.waitForFunction(() => document.title.endsWith('· not live'));
    await page.screenshot({ path: join(ARTIFACTS, 'board-not-live.png') });

    // While the board's service is down, a change is made through another instance on the file.
    const otherPort = await freePort();
    const other = start(otherPort);
    const otherUrl = await other.ready;
    await api(otherUrl, 'POST', '/centraloutboundwebhook-v1/prod/', { method: 'updatePauseStatusForCLI', cli: ASHA, pause: true, reason: 'tea' });
    other.child.kill('SIGTERM');
    expect(await other.exited).toBe(0);

    const again = start(port);
    await again.ready;
    await page.waitForSelector('body[data-live="true"]', { timeout: 15_000 });
    await page.waitForSelector(`tr[data-cli="${ASHA}"][data-pause="true"]`, { timeout: 5_000 });
    expect(await page.locator(`tr[data-cli="${ASHA}"] td.reason`).textContent()).toBe('tea');
    expect(await page.locator('#stale').isVisible()).toBe(false);

    // And it is live again: a change on the restarted service arrives without a reload.
    await api(url, 'POST', '/centraloutboundwebhook-v1/prod/', { method: 'updatePauseStatusForCLI', cli: ASHA, pause: false });
    await page.waitForSelector(`tr[data-cli="${ASHA}"][data-pause="false"]`, { timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'board-after-restart.png') });

    const stopping = Date.now();
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
