import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';

const CLI = '+919879964805';
let t: TestApp;
const api = () => supertest(t.http);

describe('admin agents', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  });
  afterEach(async () => t.close());

  it('when an agent is PUT, then 201 with the agent; a second PUT merges and answers 200', async () => {
    const r = await api().put('/admin/test/agents/9879964805').send({ name: 'Asha', accountID: 'acc-1', language: 'hi' });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ cli: CLI, name: 'Asha', accountID: 'acc-1', language: 'hi', pause: false, reason: null, since: null });
    const again = await api().put(`/admin/test/agents/${encodeURIComponent('+91 98799 64805')}`).send({ name: 'Asha K' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ cli: CLI, name: 'Asha K', accountID: 'acc-1', language: 'hi' });
    const cleared = await api().put('/admin/test/agents/09879964805').send({ language: null });
    expect(cleared.body.language).toBeNull();
  });

  it('when an agent is PUT without a body, then it is created available with no profile', async () => {
    const r = await api().put('/admin/test/agents/919879964805');
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ cli: CLI, name: null, pause: false });
  });

  it.each([
    ['/admin/test/agents/anonymous', {}, 'cli'],
    ['/admin/test/agents/12345', {}, 'cli'],
    ['/admin/test/agents/9879964805', { language: 'fr' }, 'language'],
    ['/admin/test/agents/9879964805', { name: 'x'.repeat(129) }, 'name'],
    ['/admin/test/agents/9879964805', { name: ['a', 'b'] }, 'name'],
  ])('when PUT %s with %j, then 400 naming %s and nothing stored', async (path, body, field) => {
    const before = await tableCounts(t);
    const r = await api().put(path).send(body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when agents are listed, read and deleted, then the stage keeps them apart', async () => {
    await api().put('/admin/test/agents/9879964805').send({ name: 'Asha' });
    await api().put('/admin/test/agents/9879964806').send({ name: 'Ravi <&>' });
    await api().put('/admin/prod/agents/9879964807').send({ name: 'Prod' });
    const list = await api().get('/admin/test/agents');
    expect(list.status).toBe(200);
    expect(list.body.map((a: { cli: string }) => a.cli)).toEqual(['+919879964805', '+919879964806']);
    const xml = await api().get('/admin/test/agents?format=xml');
    const doc = new XMLParser().parse(xml.text);
    expect(doc.response.item).toHaveLength(2);
    expect(doc.response.item[1].name).toBe('Ravi <&>');
    expect((await api().get('/admin/test/agents/9879964806')).body.name).toBe('Ravi <&>');
    expect((await api().get('/admin/prod/agents/9879964806')).status).toBe(404);
    expect((await api().delete('/admin/test/agents/9879964806')).status).toBe(204);
    const gone = await api().get('/admin/test/agents/9879964806');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('AGENT_NOT_FOUND');
    expect((await api().delete('/admin/test/agents/9879964806')).status).toBe(404);
  });

  it('when a wrong method or stage is used, then 405 with Allow / 404', async () => {
    const r = await api().patch('/admin/test/agents/9879964805');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toContain('PUT');
    expect((await api().get('/admin/Test/agents')).status).toBe(404);
  });

  it('when a supervisor sets the pause, then the reply is that of the webhook and the event source is admin', async () => {
    await api().put('/admin/test/agents/9879964805').send({});
    const r = await api().post('/admin/test/agents/9879964805/pause').send({ pause: true, reason: 'training' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ cli_pause_update: true, cli: CLI, pause: true, changed: true, since: '2026-01-15T10:00:00.000Z' });
    const ev = await api().get('/admin/test/events');
    expect(ev.body).toEqual([{ at: '2026-01-15T10:00:00.000Z', cli: CLI, pause: true, reason: 'training', source: 'admin', callId: null }]);
    const agent = await api().get('/admin/test/agents/9879964805');
    expect(agent.body).toMatchObject({ pause: true, reason: 'training', since: '2026-01-15T10:00:00.000Z' });
  });

  it('when a supervisor pauses an unknown agent or omits pause, then 404 / 400 with cli_pause_update false', async () => {
    const r = await api().post('/admin/test/agents/9879964805/pause').send({ pause: true });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ cli_pause_update: false, error: { code: 'AGENT_NOT_FOUND' } });
    await api().put('/admin/test/agents/9879964805').send({});
    const bad = await api().post('/admin/test/agents/9879964805/pause').send({});
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ cli_pause_update: false, error: { code: 'MISSING_PARAMETER', field: 'pause' } });
  });
});

describe('admin agent import', () => {
  beforeEach(() => {
    t = buildTestApp();
  });
  afterEach(async () => t.close());

  it('when a CSV with a header, quotes and bad rows is imported, then valid rows are kept and bad ones reported by line', async () => {
    await api().put('/admin/test/agents/9879964805').send({ name: 'Old' });
    const csv = [
      'cli,name,accountID,language',
      '9879964805,"Asha, K",acc-1,en',
      '+91 98799 64806,"Ravi ""RK""",acc-2,hi',
      'anonymous,Nobody,,',
      '',
      '09879964807,Meera,,fr',
      '919879964808,"Two',
      'lines",,',
    ].join('\r\n');
    const r = await api().post('/admin/test/agents/import').set('Content-Type', 'text/csv').send(csv);
    expect(r.status).toBe(200);
    expect(r.body.imported).toBe(2);
    expect(r.body.updated).toBe(1);
    expect(r.body.invalid.map((i: { line: number }) => i.line)).toEqual([4, 6]);
    expect(r.body.invalid[1].error).toMatch(/language/);
    const list = (await api().get('/admin/test/agents')).body as { cli: string; name: string }[];
    expect(list.map((a) => [a.cli, a.name])).toEqual([
      ['+919879964805', 'Asha, K'],
      ['+919879964806', 'Ravi "RK"'],
      ['+919879964808', 'Two\r\nlines'],
    ]);
  });

  it('when a CSV without a header is imported, then columns are cli,name,accountID,language', async () => {
    const r = await api().post('/admin/test/agents/import').set('Content-Type', 'text/csv; charset=utf-8').send('9879964805,Asha,acc,hi\n');
    expect(r.body).toEqual({ imported: 1, updated: 0, invalid: [] });
    expect((await api().get('/admin/test/agents/9879964805')).body).toMatchObject({ name: 'Asha', accountID: 'acc', language: 'hi' });
  });

  it('when a JSON array is imported, then each element is a row numbered from 1', async () => {
    const r = await api()
      .post('/admin/test/agents/import')
      .send([{ cli: '9879964805', name: 'Asha', accountId: 'a1' }, 'nonsense', { name: 'no cli' }, { cli: 9879964806 }]);
    expect(r.status).toBe(200);
    expect(r.body.imported).toBe(2);
    expect(r.body.invalid.map((i: { line: number }) => i.line)).toEqual([2, 3]);
    expect((await api().get('/admin/test/agents/9879964805')).body.accountID).toBe('a1');
  });

  it('when the import body is neither CSV nor a JSON array, then 400 and nothing stored', async () => {
    const before = await tableCounts(t);
    const r = await api().post('/admin/test/agents/import').send({ cli: '9879964805' });
    expect(r.status).toBe(400);
    expect(await tableCounts(t)).toEqual(before);
    const unknownColumn = await api().post('/admin/test/agents/import').set('Content-Type', 'text/csv').send('cli,phone\n9879964805,1\n');
    expect(unknownColumn.status).toBe(400);
    expect(await tableCounts(t)).toEqual(before);
  });
});

describe('admin events', () => {
  beforeEach(() => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
  });
  afterEach(async () => t.close());

  it('when events are filtered by cli and time, then only those come back oldest first', async () => {
    await api().put('/admin/test/agents/9879964805').send({});
    await api().put('/admin/test/agents/9879964806').send({});
    for (let i = 0; i < 4; i++) {
      await api().post('/admin/test/agents/9879964805/pause').send({ pause: i % 2 === 0 });
      await api().post('/admin/test/agents/9879964806/pause').send({ pause: i % 2 === 0 });
      t.clock.advance(60_000);
    }
    const all = await api().get('/admin/test/events');
    expect(all.body).toHaveLength(8);
    const one = await api().get('/admin/test/events').query({ cli: '09879964806', from: '2026-01-15T10:01:00Z', to: '2026-01-15T10:03:00Z' });
    expect(one.body.map((e: { cli: string; at: string }) => [e.cli, e.at])).toEqual([
      ['+919879964806', '2026-01-15T10:01:00.000Z'],
      ['+919879964806', '2026-01-15T10:02:00.000Z'],
    ]);
    expect((await api().get('/admin/prod/events')).body).toEqual([]);
  });

  it.each([
    [{ from: 'yesterday' }, 'from'],
    [{ to: '12' }, 'to'],
    [{ cli: 'abc' }, 'cli'],
    [{ from: '2026-01-16T00:00:00Z', to: '2026-01-15T00:00:00Z' }, 'from'],
    [{ limit: '0' }, 'limit'],
  ])('when the query is %j, then 400 naming %s', async (query, field) => {
    const r = await api().get('/admin/test/events').query(query);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
  });
});
