import { afterEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { csvField } from '../../src/breaks/report.csv.js';
import { parseXml, treeKey } from '../../src/xml/parse.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';

/** Issue 10, hole 9: break reports with hostile reasons and names (docs/http.md §7.4). */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const REPORT = '/admin/prod/reports/breaks';

async function breakFor(app: TestApp, cli: string, name: string, reason: string) {
  expect((await supertest(app.http).put(`/admin/prod/agents/${cli}`).send({ name })).status).toBe(201);
  const r = await supertest(app.http).post('/centraloutboundwebhook-v1/prod/').send({ method: 'updatePauseStatusForCLI', cli, pause: true, reason });
  expect(r.status).toBe(200);
}

describe('reasons named like JavaScript object members (hole 9)', () => {
  it('when agents take breaks with reasons __proto__, constructor and lunch, then every format reports them as ordinary reasons', async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
    await breakFor(t, '+919879964801', 'A', '__proto__');
    await breakFor(t, '+919879964802', 'B', 'constructor');
    await breakFor(t, '+919879964803', 'C', 'lunch');
    t.clock.advance(600_000);

    const json = await supertest(t.http).get(`${REPORT}?format=json`);
    expect(json.status).toBe(200);
    const byCli = Object.fromEntries((json.body as { cli: string; byReason: Record<string, number> }[]).map((r) => [r.cli, r.byReason]));
    expect(JSON.stringify(byCli['+919879964801'])).toBe('{"__proto__":600}');
    expect(JSON.stringify(byCli['+919879964802'])).toBe('{"constructor":600}');
    expect(JSON.stringify(byCli['+919879964803'])).toBe('{"lunch":600}');

    const csv = await supertest(t.http).get(`${REPORT}?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text).not.toContain('[object Object]');
    expect(csv.text).not.toContain('function');
    const [header, ...rows] = csv.text.trim().split('\r\n');
    const columns = header!.split(',');
    expect(columns).toEqual(expect.arrayContaining(['byReason.__proto__', 'byReason.constructor', 'byReason.lunch']));
    const cell = (row: string, col: string) => row.split(',')[columns.indexOf(col)];
    const rowOf = (cli: string) => rows.find((r) => r.startsWith(cli))!;
    expect(cell(rowOf('+919879964801'), 'byReason.__proto__')).toBe('600');
    expect(cell(rowOf('+919879964801'), 'byReason.constructor')).toBe('0');
    expect(cell(rowOf('+919879964803'), 'byReason.__proto__')).toBe('0');
    expect(cell(rowOf('+919879964803'), 'byReason.constructor')).toBe('0');

    const xml = await supertest(t.http).get(`${REPORT}?format=xml`);
    expect(xml.status).toBe(200);
    const a = parseXml(xml.text).response as { item: { cli: string; byReason: Record<string, unknown> }[] };
    const item = a.item.find((i) => i.cli === '+919879964801')!;
    expect(item.byReason).toEqual({ [treeKey('__proto__')]: '600' });
    expect(xml.text).toContain('<byReason><__proto__>600</__proto__></byReason>');
    expect(xml.text).toContain('<byReason><constructor>600</constructor></byReason>');
  });
});

describe('CSV formula guard (hole 9)', () => {
  it('when a cell starts with a formula character after spaces, then it is prefixed with a quote', () => {
    for (const v of [' =1+1', '   @SUM(A1)', ' -2+3', '\u00a0=cmd', ' \t=1', '\n=1', '\r=1', '\t1', ' +cmd']) {
      expect(csvField(v).replace(/^"/, '').startsWith("'"), JSON.stringify(v)).toBe(true);
    }
    expect(csvField('+919879964805')).toBe('+919879964805');
    expect(csvField('-5')).toBe('-5');
    expect(csvField('lunch break')).toBe('lunch break');
  });

  it('when an agent is named " =HYPERLINK(…)", then the CSV report neutralises it', async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
    await breakFor(t, '+919879964801', '  =HYPERLINK("http://x","y")', ' @lunch');
    t.clock.advance(60_000);
    const csv = await supertest(t.http).get(`${REPORT}?format=csv`);
    expect(csv.text).toContain(`"'  =HYPERLINK(""http://x"",""y"")"`);
    // The reason is trimmed when stored; its column header starts with "byReason." and needs no guard.
    expect(csv.text.split('\r\n')[0]).toMatch(/,byReason\.@lunch$/);
  });
});
