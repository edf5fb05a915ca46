import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { echoFeature } from './echoFeature.js';
import { freePort } from '../helpers/listen.js';

describe('configuration (0)', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HOST: '127.0.0.1', PORT: 3000, DATABASE_PATH: 'data/central.db', DEFAULT_REGION: 'IN', RATE_LIMIT_PER_IP: 200, PAUSE_CHANGES_PER_MINUTE: 10, SHORTURL_REDIRECT_STATUS: 302, ALLOW_HTTP: false, TRUST_PROXY: false });
    expect(c.SHORTURL_TOKENS.has('abcd1234')).toBe(true);
  });

  for (const [name, value, words] of [
    ['PORT', 'abc', /PORT must be a whole number/],
    ['PORT', '70000', /PORT/],
    ['ALLOWED_IPS', '10.0.0.0/8,not-an-ip', /ALLOWED_IPS "not-an-ip" is not an IP address or CIDR/],
    ['ALLOW_HTTP', 'maybe', /ALLOW_HTTP must be true or false/],
    ['DEFAULT_REGION', 'india', /DEFAULT_REGION/],
    ['CALLING_WINDOW', '9-21', /CALLING_WINDOW must look like 09:00-21:00/],
    ['CALLING_TZ', 'Mars/Olympus', /CALLING_TZ/],
    ['DIALER_URL', 'ftp://x', /DIALER_URL/],
    ['SHORTURL_REDIRECT_STATUS', '307', /SHORTURL_REDIRECT_STATUS/],
    ['ADMIN_TOKEN', 'short', /ADMIN_TOKEN must be at least 16 characters/],
  ] as const) {
    it(`when ${name}=${value}, then start-up fails with one line naming ${name}`, () => {
      let message = '';
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(words);
      expect(message).not.toContain('\n');
    });
  }

  it('when TRUST_PROXY is a hop count or a list, then it is passed to Express as such', () => {
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
  });

  it('when TRUST_PROXY=true or an invalid value, then start-up stops with one line naming it (7.2)', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/^Invalid configuration: TRUST_PROXY must not be true: that lets any client choose its address/);
    expect(() => loadConfig({ TRUST_PROXY: 'TRUE' })).toThrow(/TRUST_PROXY must not be true/);
    expect(() => loadConfig({ TRUST_PROXY: 'proxies' })).toThrow(/^Invalid configuration: TRUST_PROXY must be a hop count/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY/);
  });

  it('when a short-URL token carries a domain, then the domain belongs to that token', () => {
    const c = loadConfig({ SHORTURL_TOKENS: 'abcd1234, efgh5678=https://s.example.in/' });
    expect(c.SHORTURL_TOKENS.get('efgh5678')).toBe('https://s.example.in');
    expect(c.SHORTURL_TOKENS.get('abcd1234')).toBeUndefined();
  });
});

describe('health, metrics and logs (0)', () => {
  let t: TestApp;
  beforeAll(() => {
    t = buildTestApp({}, { features: echoFeature });
  });
  afterAll(() => t.close());

  it('when the database answers, then /healthz is 200 {"status":"ok"}', async () => {
    const r = await request(t.http).get('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('when requests were served, then /metrics has the request histogram by method, route and status and the domain counters', async () => {
    await request(t.http).post('/centraloutboundwebhook-v1/test/').send({ method: 'nope' });
    const r = await request(t.http).get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*method="POST"[^}]*route="\/centraloutboundwebhook-v1\/:stage"[^}]*status="400"/);
    expect(r.text).toContain('# TYPE pause_changes_total counter');
    expect(r.text).toContain('# TYPE outbound_dispatches_total counter');
  });

  it('when a request is served, then one JSON log line has method, route, status, duration and request id', async () => {
    t.logs.length = 0;
    await request(t.http).post('/centraloutboundwebhook-v1/test/').set('X-Request-Id', 'log-test-1').send({ method: 'echoParams' });
    const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.reqId === 'log-test-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'POST', route: '/centraloutboundwebhook-v1/:stage', status: 200, durationMs: expect.any(Number) });
  });

  it('when secrets travel in the body, query or headers, then none reaches the log', async () => {
    t.logs.length = 0;
    const secrets = ['S3CURITY-ID-0123456789abcdef', 'CUSTTOKEN-SECRET-42', 'Bearer AUTH-HEADER-SECRET-99', 'TWILIO-SIG-SECRET'];
    await request(t.http)
      .post(`/centraloutboundwebhook-v1/test/?custToken=${secrets[1]}`)
      .set('Authorization', secrets[2]!)
      .set('X-Twilio-Signature', secrets[3]!)
      .send({ method: 'boom', securityID: secrets[0] });
    await request(t.http).get(`/admin/prod/agents?custToken=${secrets[1]}`).set('Authorization', secrets[2]!);
    await request(t.http).post('/centraloutboundwebhook-v1/test/').type('form').send(`method=nope&securityID=${secrets[0]}`);
    const all = t.logs.join('\n');
    expect(t.logs.length).toBeGreaterThanOrEqual(3);
    for (const s of secrets) expect(all).not.toContain(s.replace('Bearer ', ''));
  });

  it('when a feature logs an object carrying a secret by mistake, then the redaction list hides it', async () => {
    const { createLogger } = await import('../../src/observability/logger.js');
    const { Writable } = await import('node:stream');
    const out: string[] = [];
    const logger = createLogger('info', new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) }));
    logger.info({ client: { securityID: 'leak-1', custToken: 'leak-2' }, authorization: 'leak-3' }, 'oops');
    expect(out.join('')).not.toMatch(/leak-/);
  });

  it('when the migrations ran, then each is recorded once and a second run applies nothing', async () => {
    const { migrate } = await import('../../src/db/open.js');
    const versions = t.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as string[];
    expect(versions[0]).toBe('001_service.sql');
    expect(new Set(versions).size).toBe(versions.length);
    expect(migrate(t.db)).toEqual([]);
  });
});

describe('npm start end to end (0)', () => {
  it('when started on a fresh DATABASE_PATH, then /healthz answers, and SIGTERM exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-e2e-'));
    const dbPath = join(dir, 'nested', 'central.db');
    const port = await freePort();
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, PORT: String(port), DATABASE_PATH: dbPath, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let health: Response | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        try {
          health = await fetch(`http://127.0.0.1:${port}/healthz`);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(health?.status).toBe(200);
      expect(await health!.json()).toEqual({ status: 'ok' });
      expect(existsSync(dbPath)).toBe(true);
      const db = new Database(dbPath, { readonly: true });
      expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBeGreaterThan(0);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      // npm runs the service as a child; signal the whole group the way a supervisor would.
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a setting is invalid, then start-up exits 1 with one line naming it', async () => {
    const child = spawn('npx', ['tsx', 'src/server.ts'], { env: { ...process.env, PORT: 'not-a-port' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('Invalid configuration: PORT must be a whole number');
  });
});
