import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildTestApp, tableCounts, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';

const ASHA = '+919879964805';
const RAVI = '+919811112222';
let t: TestApp;

const register = (cli: string, name: string, stage = 'test') =>
  supertest(t.http).put(`/admin/${stage}/agents/${cli}`).send({ name }).expect((r) => expect([200, 201]).toContain(r.status));
const pause = (cli: string, p: boolean, reason?: string, stage = 'test') =>
  supertest(t.http)
    .post(`/centraloutboundwebhook-v1/${stage}/`)
    .send({ method: 'updatePauseStatusForCLI', cli, pause: p, ...(reason ? { reason } : {}) })
    .expect(200);
const report = (query: string, stage = 'test') => supertest(t.http).get(`/admin/${stage}/reports/breaks${query}`);
const at = (hhmm: string) => t.clock.set(`2026-01-15T${hhmm}:00.000Z`);

describe('GET /admin/{stage}/reports/breaks', () => {
  beforeEach(async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', MAX_BREAK_MINUTES: '30' });
    await register(ASHA, 'Asha, "A" <&>');
    await register(RAVI, 'Ravi');
    // Asha: lunch 09:00–09:40, tea 10:00, switches to a meeting at 10:10, back 11:00, tea again from 11:30 (open)
    at('09:00');
    await pause(ASHA, true, 'lunch');
    at('09:40');
    await pause(ASHA, false);
    at('10:00');
    await pause(ASHA, true, 'tea');
    at('10:10');
    await pause(ASHA, true, 'meeting');
    at('11:00');
    await pause(ASHA, false);
    at('11:30');
    await pause(ASHA, true, 'tea');
    at('12:00');
  });
  afterEach(async () => t.close());

  it('when asked for a window, then breaks are clipped to it, reason changes split breaks and the open break counts to now', async () => {
    const r = await report('?from=2026-01-15T09:30:00Z&to=2026-01-15T13:00:00Z');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      {
        cli: RAVI,
        name: 'Ravi',
        breaks: 0,
        totalBreakSeconds: 0,
        longestBreakSeconds: 0,
        byReason: {},
        onBreakNow: false,
        since: null,
        overLimit: false,
        breaksOverLimit: 0,
      },
      {
        cli: ASHA,
        name: 'Asha, "A" <&>',
        breaks: 4,
        // lunch 09:30–09:40 (clipped), tea 10:00–10:10, meeting 10:10–11:00, tea 11:30–12:00 (open, now)
        totalBreakSeconds: (10 + 10 + 50 + 30) * 60,
        longestBreakSeconds: 50 * 60,
        byReason: { lunch: 600, meeting: 3000, tea: 2400 },
        onBreakNow: true,
        since: '2026-01-15T11:30:00.000Z',
        // lunch ran 40 of its 45 minutes (ivr/menus.json), tea 10 of 15, meeting 50 of 60; the open tea
        // break is at 30 of 15 minutes
        overLimit: true,
        breaksOverLimit: 1,
      },
    ]);
  });

  it('when the window ends before a break that began inside it ended, then the break is cut at the window end', async () => {
    const r = await report(`?cli=${encodeURIComponent(ASHA)}&from=2026-01-15T10:05:00Z&to=2026-01-15T10:30:00Z`);
    expect(r.body).toHaveLength(1);
    expect(r.body[0]).toMatchObject({ breaks: 2, totalBreakSeconds: 25 * 60, byReason: { tea: 300, meeting: 1200 }, onBreakNow: true });
  });

  it('when no window is given, then it is the 24 hours up to now; an agent on break past its limit is flagged', async () => {
    t.clock.set('2026-01-15T11:50:00.000Z');
    const r = await report(`?cli=9879964805`);
    expect(r.body[0]).toMatchObject({ breaks: 4, totalBreakSeconds: (40 + 10 + 50 + 20) * 60, overLimit: true });
  });

  it('when asked for CSV, then the same rows come as an attachment with quoted names and a column per reason', async () => {
    const r = await report('?from=2026-01-15T09:30:00Z&to=2026-01-15T13:00:00Z&format=csv');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toBe('attachment; filename="breaks-test-2026-01-15.csv"');
    expect(r.text.split('\r\n')).toEqual([
      'cli,name,breaks,totalBreakSeconds,longestBreakSeconds,onBreakNow,since,overLimit,breaksOverLimit,byReason.lunch,byReason.meeting,byReason.tea',
      '+919811112222,Ravi,0,0,0,false,,false,0,0,0,0',
      '+919879964805,"Asha, ""A"" <&>",4,6000,3000,true,2026-01-15T11:30:00.000Z,true,1,600,3000,2400',
      '',
    ]);
  });

  it('when asked for XML, then each agent is an item with the same fields', async () => {
    const r = await report('?from=2026-01-15T09:30:00Z&to=2026-01-15T13:00:00Z&format=xml');
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(r.text).toContain('<name>Asha, "A" &lt;&amp;&gt;</name>');
    expect(r.text).toContain('<byReason><lunch>600</lunch><meeting>3000</meeting><tea>2400</tea></byReason>');
  });

  it('when the other stage is asked, then it has none of these agents', async () => {
    const r = await report('', 'prod');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([]);
  });

  it.each([
    ['?from=yesterday', 'from'],
    ['?to=2026-13-45T00:00:00Z', 'to'],
    ['?from=2026-01-15T12:00:00Z&to=2026-01-15T12:00:00Z', 'from'],
    ['?format=pdf', 'format'],
    ['?cli=12', 'cli'],
  ])('when the query is %s, then 400 INVALID_PARAMETER names %s and nothing changes', async (query, field) => {
    const before = await tableCounts(t);
    const r = await report(query);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_PARAMETER', field });
    expect(await tableCounts(t)).toEqual(before);
  });

  it('when the cli is not a registered agent, then 404 AGENT_NOT_FOUND', async () => {
    const r = await report('?cli=9000000001');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('AGENT_NOT_FOUND');
  });

  it('when the stage is not prod or test, then 404', async () => {
    expect((await report('', 'Prod')).status).toBe(404);
  });
});

describe('supervisor board', () => {
  beforeEach(async () => {
    t = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0' });
    await register(ASHA, '<script>alert(1)</script>');
    await register(RAVI, 'Ravi');
    at('09:00');
    await pause(ASHA, true, 'lunch');
    at('09:20');
  });
  afterEach(async () => t.close());

  it('when the board is opened, then every agent has a row, escaped, with who is on break, and a strict CSP', async () => {
    const r = await supertest(t.http).get('/admin/test/board');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(r.text).toContain(`<tr data-cli="${ASHA}" data-pause="true" data-over="false">`);
    expect(r.text).toContain(`<tr data-cli="${RAVI}" data-pause="false" data-over="false">`);
    expect(r.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.text).not.toContain('<script>alert(1)</script>');
    expect(r.text).toContain('<td class="reason">lunch</td>');
  });

  it("when the board's data is asked for, then it has the agents and today's breaks in CALLING_TZ", async () => {
    const r = await supertest(t.http).get('/admin/test/board/data');
    expect(r.body).toMatchObject({
      stage: 'test',
      now: '2026-01-15T09:20:00.000Z',
      dayStart: '2026-01-14T18:30:00.000Z',
      timeZone: 'Asia/Kolkata',
      reasonLimits: { lunch: 45 },
      breaks: [{ cli: ASHA, start: '2026-01-15T09:00:00.000Z', end: null, reason: 'lunch' }],
    });
    expect(r.body.agents.map((a: { cli: string }) => a.cli)).toEqual([RAVI, ASHA]);
    expect(r.body.agents[1]).toMatchObject({ pause: true, reason: 'lunch', since: '2026-01-15T09:00:00.000Z', limitMinutes: 45 });
  });

  it('when a client is connected to the event stream, then a committed change of its stage arrives and other stages do not', async () => {
    await register(RAVI, 'Ravi', 'prod');
    const server = await listen(t.http);
    try {
      const frames: string[] = [];
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${server.url}/admin/test/events/stream`, resolve).on('error', reject),
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      res.setEncoding('utf8');
      res.on('data', (c: string) => frames.push(c));
      await waitFor(() => frames.join('').includes(': connected'));
      await pause(RAVI, true, 'tea', 'prod');
      await pause(RAVI, true, 'tea');
      await waitFor(() => frames.join('').includes('event: pauseChange'));
      res.destroy();
      const events = frames
        .join('')
        .split('\n\n')
        .filter((f) => f.startsWith('event: pauseChange'))
        .map((f) => JSON.parse(f.split('\ndata: ')[1]!));
      expect(events).toEqual([
        { stage: 'test', at: '2026-01-15T09:20:00.000Z', cli: RAVI, name: 'Ravi', pause: true, reason: 'tea', source: 'webhook', callId: null, limitMinutes: 15 },
      ]);
    } finally {
      await server.close();
    }
  });

  it('when the app is closing, then open streams are ended so shutdown is not held up', async () => {
    const server = await listen(t.http);
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${server.url}/admin/test/events/stream`, resolve).on('error', reject),
      );
      const ended = new Promise<void>((resolve) => res.on('end', resolve).resume());
      t.app.closing();
      await ended;
    } finally {
      await server.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('admin access to the board, stream and report', () => {
  const TOKEN = 'supervisor-token-0123456789';
  beforeEach(() => {
    t = buildTestApp({ ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => t.close());

  it.each(['/admin/test/board', '/admin/test/board/data', '/admin/test/events/stream', '/admin/test/reports/breaks'])(
    'when ADMIN_TOKEN is set and %s is asked without it, then 401',
    async (path) => {
      const r = await supertest(t.http).get(path);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
    },
  );

  it('when the bearer token is given, then the board and the report are served', async () => {
    await supertest(t.http).get('/admin/test/board').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    await supertest(t.http).get('/admin/test/reports/breaks').set('Authorization', `Bearer ${TOKEN}`).expect(200, []);
  });
});
