import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadIvrCatalog } from '../../src/ivr/ivr.catalog.js';

const SHIPPED = join(import.meta.dirname, '../../ivr');
let dir: string;

const edit = (file: string, change: (doc: Record<string, any>) => void) => {
  const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  change(doc);
  writeFileSync(join(dir, file), JSON.stringify(doc));
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cw-ivr-'));
  cpSync(SHIPPED, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('IVR data', () => {
  it('when the shipped ivr/ folder is loaded, then English and Hindi are there with digit-numbered reasons', () => {
    const c = loadIvrCatalog(SHIPPED, 'en');
    expect(c.languages).toEqual(expect.arrayContaining(['en', 'hi']));
    expect(c.reasons.map((r) => [r.digit, r.id])).toEqual([
      ['1', 'lunch'],
      ['2', 'tea'],
      ['3', 'meeting'],
      ['4', 'training'],
      ['5', 'personal'],
    ]);
    expect(c.pack('hi').voice.twiml.language).toBe('hi-IN');
    expect(c.pack('xx')).toBe(c.pack('en'));
  });

  it.each([
    ['hi.json', (d: any) => delete d.prompts.menu, /hi\.json prompts\.menu/],
    ['en.json', (d: any) => (d.prompts.hello = 'Hello {nam}.'), /en\.json prompts\.hello: unknown placeholder \{nam\}/],
    ['en.json', (d: any) => (d.prompts.reasonOption = 'Press {digit}.'), /must contain \{reason\}/],
    ['en.json', (d: any) => (d.prompts.extra = 'x'), /en\.json/],
    ['hi.json', (d: any) => delete d.reasons.tea, /hi\.json reasons\.tea: missing spoken label/],
    ['en.json', (d: any) => (d.reasons.nap = 'a nap'), /en\.json reasons\.nap: not a reason in menus\.json/],
    ['menus.json', (d: any) => d.reasons.push({ id: 'lunch' }), /reason ids must be unique/],
    ['menus.json', (d: any) => (d.reasons = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}` }))), /at most 9 reasons/],
    ['menus.json', (d: any) => (d.reasons[0].id = 'lunch break!'), /menus\.json reasons\.0\.id/],
  ])('when %s is broken (%#), then loading throws one line naming the file and field', (file, change, message) => {
    edit(file, change);
    let error: Error | undefined;
    try {
      loadIvrCatalog(dir, 'en');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('\n');
  });

  it('when a file is not JSON or IVR_LANGUAGE has no file, then loading throws', () => {
    expect(() => loadIvrCatalog(dir, 'fr')).toThrow(/IVR_LANGUAGE=fr/);
    writeFileSync(join(dir, 'hi.json'), '{ nope');
    expect(() => loadIvrCatalog(dir, 'en')).toThrow(/hi\.json is not valid JSON/);
    expect(() => loadIvrCatalog(join(dir, 'missing'), 'en')).toThrow(/IVR_DIR/);
  });

  it('when the service starts with invalid IVR data, then it exits 1 with one line on stderr', () => {
    edit('en.json', (d) => delete d.prompts.goodbye);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, IVR_DIR: dir, DATABASE_PATH: join(dir, 'db.sqlite'), PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/en\.json prompts\.goodbye/);
  });
});
