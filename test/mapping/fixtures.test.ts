import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { hostileCases, previewBodyBytes } from '../helpers/hostileXml.js';

/**
 * Table-driven: every case in fixtures/mapping/good is a real-shaped third-party response with a
 * mapping and the variables a flow must get; every document in fixtures/mapping/bad is refused.
 */

const GOOD_DIR = join(import.meta.dirname, '../../fixtures/mapping/good');

interface GoodCase {
  description: string;
  document: string;
  mapping: Record<string, string>;
  variables: Record<string, string | null>;
  missing: string[];
}

const goodCases = readdirSync(GOOD_DIR)
  .filter((f) => f.endsWith('.case.json'))
  .map((f) => {
    const c = JSON.parse(readFileSync(join(GOOD_DIR, f), 'utf8')) as GoodCase;
    return { file: f, ...c, text: readFileSync(join(GOOD_DIR, c.document), 'utf8') };
  });

/** Heap growth allowed for one hostile request: far below what any expansion would need. */
const HEAP_BOUND = 64 * 1024 * 1024;

let t: TestApp;
beforeAll(() => {
  t = buildTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('mapping fixtures: third-party responses', () => {
  it('when the fixture folder is read, then it holds XML and JSON cases', () => {
    expect(goodCases.length).toBeGreaterThanOrEqual(6);
    expect(goodCases.some((c) => c.document.endsWith('.json'))).toBe(true);
  });

  for (const c of goodCases) {
    it(`when ${c.file} (${c.description}) is previewed, then every variable is as expected`, async () => {
      const res = await supertest(t.http).post('/mapping/preview').send({ document: c.text, mapping: c.mapping });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ variables: c.variables, missing: c.missing });
    });
  }
});

describe('mapping fixtures: hostile documents', () => {
  for (const c of hostileCases()) {
    it(`when ${c.name} is previewed, then ${c.status} ${c.jsonCode} with memory bounded`, async () => {
      const before = process.memoryUsage().heapUsed;
      const res = await supertest(t.http)
        .post('/mapping/preview')
        .set('Content-Type', 'application/json')
        .serialize((bytes: Buffer) => bytes as unknown as string) // send the bytes as they are, not JSON.stringify(Buffer)
        .send(previewBodyBytes(c.bytes, { '$flow.key.cli': 'lookup.cli' }));
      expect(res.status).toBe(c.status);
      expect(res.body.error.code).toBe(c.jsonCode);
      expect(res.body.variables).toBeUndefined();
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(HEAP_BOUND);
    });

    it(`when ${c.name} is the XML body of /mapping/preview, then ${c.status} ${c.code}`, async () => {
      const res = await supertest(t.http).post('/mapping/preview').set('Content-Type', 'application/xml').send(c.bytes);
      expect(res.status).toBe(c.status);
      expect(res.type).toBe('application/xml');
      expect(res.text).toContain(`<code>${c.code}</code>`);
    });

    it(`when ${c.name} is the XML body of the central webhook, then ${c.status} ${c.code} and nothing changes`, async () => {
      const counts = await tableCounts(t);
      const before = process.memoryUsage().heapUsed;
      const res = await supertest(t.http)
        .post('/centraloutboundwebhook-v1/test/')
        .set('Content-Type', 'text/xml; charset=utf-8')
        .set('Accept', 'application/json')
        .send(c.bytes);
      expect(res.status).toBe(c.status);
      expect(res.body.error.code).toBe(c.code);
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(HEAP_BOUND);
      expect(await tableCounts(t)).toEqual(counts);
    });
  }
});
