import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, startServiceProcess, type ServiceProcess } from '../helpers/service.js';

/**
 * The `twilio` SDK is loaded only by a service that dials through Twilio (docs/http.md §9): it
 * takes hundreds of ms at start-up. The real service process is started with a preload that
 * writes, at exit, every npm package it loaded (loadedPackages.preload.mjs).
 */

const PRELOAD = pathToFileURL(resolve(import.meta.dirname, 'loadedPackages.preload.mjs')).href;
const started: ServiceProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const s of started.splice(0)) s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Start the service with `env`, stop it with SIGTERM, and return the packages it had loaded. */
async function packagesLoadedBy(env: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cw-sdk-'));
  dirs.push(dir);
  const file = join(dir, 'packages.json');
  const s = startServiceProcess(
    { PORT: '0', DATABASE_PATH: join(dir, 'central.db'), IVR_DIR: resolve(ROOT, 'ivr'), NODE_OPTIONS: `--import ${PRELOAD}`, LOADED_PACKAGES_FILE: file, ...env },
    { inheritEnv: false },
  );
  started.push(s);
  const url = await s.ready;
  // A request on the outbound path too: the SDK must not be loaded on first use either.
  const res = await fetch(`${url}/admin/prod/clients`);
  expect(res.status).toBe(200);
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as string[];
}

describe('the twilio SDK at start-up (9)', () => {
  it('when the dialer is not twilio (DIALER=record or plivo), then the service never loads the twilio package', async () => {
    const record = await packagesLoadedBy({ DIALER: 'record' });
    // The preload saw the packages the service does load, so an empty answer is not a pass.
    expect(record).toEqual(expect.arrayContaining(['better-sqlite3', 'express']));
    expect(record).not.toContain('twilio');
    const plivo = await packagesLoadedBy({ DIALER: 'plivo', PLIVO_AUTH_ID: 'MAXXXXXXXXXXXXXXXXXX', PLIVO_AUTH_TOKEN: 'plivo-token', PUBLIC_BASE_URL: 'https://central.example.com' });
    expect(plivo).not.toContain('twilio');
  }, 90_000);

  it('when DIALER=twilio, then the service loads the twilio package at start-up, before the first call', async () => {
    const loaded = await packagesLoadedBy({
      DIALER: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`,
      TWILIO_AUTH_TOKEN: 'twilio-secret-token',
      TWILIO_API_URL: 'http://127.0.0.1:9',
      PUBLIC_BASE_URL: 'https://central.example.com',
    });
    expect(loaded).toContain('twilio');
  }, 60_000);
});
