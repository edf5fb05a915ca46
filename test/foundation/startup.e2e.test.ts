import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';
import { ROOT, TSX_IMPORT, startServiceProcess, type ServiceProcess } from '../helpers/service.js';

/** Start-up as an operator meets it (docs/http.md §8.1): `.env`, the listening and warn lines, one process per file. */

const run = promisify(execFile);
const IVR_DIR = resolve(ROOT, 'ivr');
const started: ServiceProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const s of started.splice(0)) s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cw-startup-'));
  dirs.push(d);
  return d;
}

function start(env: Record<string, string>, cwd?: string): ServiceProcess {
  const s = startServiceProcess({ IVR_DIR, ...env }, { cwd, inheritEnv: false });
  started.push(s);
  return s;
}

async function shorten(url: string, custToken: string) {
  const res = await fetch(`${url}/UrlShortner/phonon/shortUrl`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ custToken, longUrl: 'https://example.com/offer' }),
  });
  return { status: res.status, body: (await res.json()) as { shortUrl?: string } };
}

describe('start-up (8)', () => {
  it('when a .env file is in the working directory, then its settings apply and the process environment wins over it', async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, '.env'), `# written by the test\nPORT=${port}\nSHORTURL_TOKENS=fromfile1234\nDATABASE_PATH=${join(dir, 'db', 'central.db')}\n`);
    const s = start({ SHORTURL_TOKENS: 'fromenv5678' }, dir);
    const url = await s.ready;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect((await shorten(url, 'fromfile1234')).status).toBe(401);
    const made = await shorten(url, 'fromenv5678');
    expect(made.status).toBe(200);
    // SHORTURL_BASE_URL follows PORT when neither it nor PUBLIC_BASE_URL is set.
    expect(made.body.shortUrl).toMatch(new RegExp(`^http://localhost:${port}/[A-Za-z0-9]{8}$`));
  }, 60_000);

  it('when started with the defaults, then the listening line describes the set-up and each risky setting has a warn line', async () => {
    const dir = tempDir();
    const s = start({ PORT: '0', DATABASE_PATH: join(dir, 'central.db'), HOST: '0.0.0.0' });
    await s.ready;
    await s.waitForLine((l) => String(l.msg).includes('ADMIN_TOKEN is unset'));
    const lines = s.logLines();
    const listening = lines.find((l) => l.msg === 'listening')!;
    expect(listening).toMatchObject({
      url: expect.stringMatching(/^http:\/\/0\.0\.0\.0:\d+$/),
      database: { engine: 'sqlite', path: join(dir, 'central.db') },
      dialers: { prod: 'record', test: 'record' },
      admin: 'loopback only',
      trustProxy: false,
      tls: false,
      ivrSignatures: [],
    });
    const warnings = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('abcd1234'),
        expect.stringMatching(/prod stage has no platform dialer.*only recorded/),
        expect.stringMatching(/HOST=0\.0\.0\.0 .*ADMIN_TOKEN is unset/),
      ]),
    );
  }, 60_000);

  it('when the risky settings are replaced, then no warn line is written and no secret is in the log', async () => {
    const dir = tempDir();
    const s = start({
      PORT: '0',
      DATABASE_PATH: join(dir, 'central.db'),
      ADMIN_TOKEN: 'admin-token-0123456789',
      SHORTURL_TOKENS: 'own-token-42',
      DIALER_URL: 'http://127.0.0.1:9/dial',
      TWILIO_AUTH_TOKEN: 'twilio-secret-value',
      PUBLIC_BASE_URL: 'https://hooks.example.com',
    });
    await s.ready;
    // A request after start-up: its log line follows any start-up warning.
    await fetch(`${await s.ready}/healthz`);
    await s.waitForLine((l) => l.msg === 'request');
    const lines = s.logLines();
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
    expect(lines.find((l) => l.msg === 'listening')).toMatchObject({ dialers: { prod: 'http', test: 'record' }, admin: 'token', ivrSignatures: ['twilio'] });
    expect(s.stdout()).not.toMatch(/admin-token-0123456789|own-token-42|twilio-secret-value/);
  }, 60_000);

  it('when a second process starts on the same SQLite file, then it stops with one line and the first keeps serving; after the first is killed the file is free', async () => {
    const dir = tempDir();
    const env = { PORT: '0', DATABASE_PATH: join(dir, 'central.db') };
    const first = start(env);
    const url = await first.ready;
    const second = start(env);
    expect(await second.exited).toBe(1);
    expect(second.stderr().trim()).toMatch(/^another process is already serving DATABASE_PATH=\S+central\.db; stop it first/);
    expect(second.stderr().trim().split('\n')).toHaveLength(1);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = start(env);
    await expect(third.ready).resolves.toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 60_000);

  it('when a TLS file is missing, then start-up stops with one line naming it and no stack trace', async () => {
    const dir = tempDir();
    const s = start({ PORT: '0', DATABASE_PATH: join(dir, 'central.db'), TLS_CERT_FILE: join(dir, 'missing.crt'), TLS_KEY_FILE: join(dir, 'missing.key') });
    expect(await s.exited).toBe(1);
    expect(s.stderr().trim()).toBe(`Cannot read TLS_CERT_FILE=${join(dir, 'missing.crt')}: ENOENT`);
  }, 60_000);
});

describe('npm run call without --url (8)', () => {
  const call = (env: Record<string, string>, cwd = ROOT) =>
    run(process.execPath, [...TSX_IMPORT, resolve(ROOT, 'src/ivr/call.cli.ts'), '--cli', '9879964805', '--stage', 'test'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      timeout: 20_000,
    });

  it('when nothing listens on HOST:PORT, then it names the URL it tried and --url', async () => {
    const port = await freePort();
    const failed = await call({ PORT: String(port) }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`cannot reach the service at http://127.0.0.1:${port}`);
    expect(failed?.stderr).toContain('--url');
  }, 30_000);

  it('when the service runs on the PORT of .env, then the call reaches it', async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, '.env'), `PORT=${port}\n`);
    const s = start({ DATABASE_PATH: join(dir, 'central.db') }, dir);
    const url = await s.ready;
    const put = await fetch(`${url}/admin/test/agents/9879964805`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"Asha"}' });
    expect(put.status).toBe(201);
    const { stdout } = await call({}, dir);
    expect(stdout).toContain('🔊 Hello Asha.');
  }, 60_000);
});
