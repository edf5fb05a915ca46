import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
let t: TestApp;
let server: Server;
let url: string;

beforeEach(async () => {
  t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  server = t.http.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((r) => server.close(r));
  await t.close();
});

const call = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/ivr/call.cli.ts', '--url', url, '--stage', 'test', ...args], { cwd: ROOT, timeout: 20_000 });

describe('npm run call', () => {
  it('when an agent calls in toggle mode, then it prints what the caller hears', async () => {
    await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha' }).expect(201);
    const { stdout } = await call('--cli', '9879964805');
    expect(stdout).toContain('🔊 Hello Asha.');
    expect(stdout).toContain('🔊 You are now on break.');
    expect(stdout).toContain('hung up');
    const hi = await call('--cli', '9879964805', '--lang', 'hi', '--dialect', 'plivo');
    expect(hi.stdout).toContain('🔊 अब आप उपलब्ध हैं।');
  });

  it('when digits are given in menu mode, then it presses them at each prompt', async () => {
    await supertest(t.http).put('/admin/test/agents/9879964805').send({}).expect(201);
    const { stdout } = await call('--cli', '9879964805', '--mode', 'menu', '--digits', '1,1');
    expect(stdout).toContain('(pressed 1)');
    expect(stdout).toContain('🔊 You are now on break for lunch.');
    expect((await supertest(t.http).get('/admin/test/agents/9879964805')).body.reason).toBe('lunch');
  });

  it('when --dialect exotel, then it follows the Passthru branch and the Greeting’s HEAD and GET, as Exotel does', async () => {
    await supertest(t.http).put('/admin/test/agents/9879964805').send({ name: 'Asha', language: 'hi' }).expect(201);
    const on = await call('--cli', '9879964805', '--dialect', 'exotel');
    expect(on.stdout).toMatch(/→ GET \/ivr\/test\/inbound\?dialect=exotel\n {2}HTTP 200: Passthru takes branch 1\n→ HEAD \/ivr\/test\/exotel\/say\n→ GET \/ivr\/test\/exotel\/say\n {2}🔊 नमस्ते Asha। अब आप ब्रेक पर हैं। धन्यवाद।\n☎ hung up/);
    const off = await call('--cli', '9879964805', '--dialect', 'exotel');
    expect(off.stdout).toContain('HTTP 302: Passthru takes branch 2');
    expect(off.stdout).toContain('🔊 नमस्ते Asha। अब आप उपलब्ध हैं। धन्यवाद।');
  });

  it('when a choice is said instead of pressed, then it sends the platform’s speech field', async () => {
    await supertest(t.http).put('/admin/test/agents/9879964805').send({}).expect(201);
    const { stdout } = await call('--cli', '9879964805', '--mode', 'menu', '--dialect', 'plivo', '--digits', 'said:training');
    expect(stdout).toContain('(said "training")');
    expect(stdout).toContain('🔊 You are now on break for training.');
  });

  it('when --cli is missing, then it prints usage and exits 2', async () => {
    await expect(call()).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage: npm run call') });
  });
});
