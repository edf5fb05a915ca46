import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';

/**
 * The supervisor board in a real browser: Debian's Chromium (`.ci/run` installs it) driven by
 * playwright-core. Flags as needed to run as root on a machine with no outside network.
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
const ASHA = '+919879964805';
const RAVI = '+919811112222';

describe.skipIf(!existsSync(CHROMIUM))('supervisor board in Chromium', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let context: BrowserContext;
  let profile: string;

  const call = async (method: string, path: string, body: unknown) => {
    const r = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBeLessThan(300);
  };
  const setPause = (cli: string, pause: boolean, reason?: string) =>
    call('POST', '/centraloutboundwebhook-v1/test/', { method: 'updatePauseStatusForCLI', cli, pause, ...(reason ? { reason } : {}) });

  beforeAll(async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
    server = await listen(t.http);
    await call('PUT', `/admin/test/agents/${ASHA}`, { name: 'Asha' });
    await call('PUT', `/admin/test/agents/${RAVI}`, { name: 'Ravi <b>' });
    await setPause(ASHA, true, 'lunch');
    t.clock.advance(20 * 60_000);
    profile = mkdtempSync(join(tmpdir(), 'cw-chromium-'));
    // A fresh, empty profile each run.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await t?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('when a pause changes over the webhook, then the open board updates the row live without reloading', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}/admin/test/board`);
    await page.waitForSelector('body[data-live="true"]', { timeout: 10_000 });

    const asha = page.locator(`tr[data-cli="${ASHA}"]`);
    const ravi = page.locator(`tr[data-cli="${RAVI}"]`);
    expect(await asha.locator('td.status').textContent()).toBe('On break');
    expect(await asha.locator('td.for').textContent()).toMatch(/^20:\d\d$/);
    expect(await ravi.locator('td.agent .name').textContent()).toBe('Ravi <b>');
    expect(await ravi.locator('td.status').textContent()).toBe('Available');
    expect(await page.locator('#on-break').textContent()).toBe('1');

    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { boardMark: number }).boardMark = 42));

    await setPause(RAVI, true, 'tea');
    await page.waitForSelector(`tr[data-cli="${RAVI}"][data-pause="true"]`, { timeout: 10_000 });
    expect(await ravi.locator('td.status').textContent()).toBe('On break');
    expect(await ravi.locator('td.reason').textContent()).toBe('tea');
    expect(await ravi.locator('td.limit').textContent()).toBe('15 min');
    expect(await ravi.locator('.track .seg.open').count()).toBe(1);

    await setPause(ASHA, false);
    await page.waitForSelector(`tr[data-cli="${ASHA}"][data-pause="false"]`, { timeout: 10_000 });
    expect(await asha.locator('td.status').textContent()).toBe('Available');
    expect(await asha.locator('.track .seg').count()).toBe(1);
    expect(await asha.locator('td.today').textContent()).toMatch(/^1 · 20:\d\d$/);
    expect(await page.locator('#on-break').textContent()).toBe('1');

    // An agent registered after the page loaded appears with their first change.
    await call('PUT', '/admin/test/agents/9000000001', { name: 'Meera' });
    await setPause('9000000001', true);
    await page.waitForSelector('tr[data-cli="+919000000001"][data-pause="true"]', { timeout: 10_000 });
    expect(await page.locator('tr[data-cli="+919000000001"] td.agent .name').textContent()).toBe('Meera');

    expect(await page.evaluate(() => (window as unknown as { boardMark?: number }).boardMark)).toBe(42);
    expect(errors).toEqual([]);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: join('test-output', 'supervisor-board.png'), fullPage: true });
  }, 60_000);
});
