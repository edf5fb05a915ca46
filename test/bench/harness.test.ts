import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, startChild, type Child } from '../../bench/children.js';
import { parseProcStat, processCpuMicros } from '../../bench/cpu.js';
import { paced, requestMaker } from '../../bench/paced.js';
import { scenarios } from '../../bench/scenarios/index.js';
import { buildTestApp, type TestApp } from '../helpers/buildTestApp.js';
import { listen } from '../helpers/listen.js';

/**
 * The bench harness without timing goals: CPU time read from /proc in the right unit, the paced
 * load sending the asked-for number of requests, and every same-work twin answering what the
 * service answers for the scenario's own requests (so the twin is doing the same work).
 */

describe('bench CPU reading', () => {
  it('when a stat line has a command name with spaces and brackets, then utime + stime are read after the last bracket', () => {
    const line = '4242 (node (tsx) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 500 100000 2000 18446744073709551615';
    expect(parseProcStat(line, 100)).toBe(3_000_000);
    expect(() => parseProcStat('garbage', 100)).toThrow();
  });

  it("when this process burns CPU, then /proc's reading grows by what process.cpuUsage says, in microseconds", () => {
    const before = processCpuMicros(process.pid);
    const cpu0 = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(cpu0).user < 150_000) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(cpu0);
    const grown = processCpuMicros(process.pid) - before;
    // Clock ticks are 10 ms; other threads (GC, workers) may add a little.
    expect(grown).toBeGreaterThanOrEqual(used.user + used.system - 20_000);
    expect(grown).toBeLessThan((used.user + used.system) * 3 + 50_000);
    expect(x).toBeGreaterThan(0);
  });
});

describe('bench paced load', () => {
  it('when run at a fixed rate, then rate × seconds requests are sent, each built by the shape, and statuses are counted', async () => {
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        // The sender's warm-up GETs /healthz first; only the measured requests go to /x.
        if (req.url !== '/x') return void res.end('ok');
        bodies.push(b);
        res.statusCode = b.endsWith('3') ? 500 : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    let n = 0;
    const shape = {
      method: 'POST' as const,
      path: '/x',
      headers: { 'content-type': 'text/plain' },
      requests: [{ setupRequest: ((req: Record<string, unknown>) => ({ ...req, body: `n=${n++}` })) as never }],
    };
    try {
      const r = await paced(`http://127.0.0.1:${port}`, shape, { rate: 50, seconds: 0.2 });
      expect(r.sent).toBe(10);
      expect(r.responses).toBe(10);
      expect(r.statuses).toEqual({ '200': 9, '500': 1 });
      expect(r.unexpected).toBe(1);
      expect(r.errors).toBe(0);
      expect(bodies.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `n=${i}`).sort());
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('when the body is a Buffer, then the sender (a worker thread) sends its exact bytes', async () => {
    const received: Buffer[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (req.url === '/x') received.push(Buffer.concat(chunks));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const bytes = Buffer.from('<a>caf\u00e9 \u20b9</a>', 'utf8');
    try {
      const r = await paced(`http://127.0.0.1:${port}`, { method: 'POST', path: '/x', requests: [{ body: bytes }] as never }, { rate: 40, seconds: 0.1 });
      expect(r.responses).toBe(4);
      expect(received.map((b) => b.equals(bytes))).toEqual([true, true, true, true]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('when replies are chunked or empty (204), then each is read to its end and counted on its keep-alive connection', async () => {
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url !== '/x') return void res.end('ok');
        if (n++ % 2 === 0) {
          res.statusCode = 204;
          return void res.end();
        }
        res.write('first part,');
        setTimeout(() => res.end(' then the rest'), 2);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const r = await paced(`http://127.0.0.1:${port}`, { method: 'GET', path: '/x' }, { rate: 100, seconds: 0.2, maxSockets: 1 });
      expect(r.responses).toBe(20);
      expect(r.statuses).toEqual({ '200': 10, '204': 10 });
      expect(r.errors).toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('when a shape has no setupRequest, then its own method, path, headers and body are sent', () => {
    const make = requestMaker({ method: 'PUT', path: '/p', headers: { a: 'b' }, body: 'x' });
    expect(make()).toEqual({ method: 'PUT', path: '/p', headers: { a: 'b' }, body: 'x' });
  });
});

/** Timestamps and generated codes differ between two processes; everything else must not. */
const normalise = (body: string) =>
  body.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>').replace(/"shortUrl":"[^"]*\/[A-Za-z0-9]{8}"/, '"shortUrl":"<link>"');

describe('bench same-work twins', () => {
  let svc: TestApp;
  let served: Awaited<ReturnType<typeof listen>>;
  let dir: string;
  beforeAll(async () => {
    svc = buildTestApp({ PAUSE_CHANGES_PER_MINUTE: '0', SHORTURL_CREATES_PER_MINUTE: '0' });
    served = await listen(svc.http);
    dir = mkdtempSync(join(tmpdir(), 'cw-bench-twin-'));
  });
  afterAll(async () => {
    await served.close();
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const s of scenarios.filter((x) => x.twin)) {
    it(`when ${s.name}'s requests go to the service and to its twin, then both answer the same status, type and body`, { timeout: 60_000 }, async () => {
      const ctx = context(served.url);
      await s.setup?.(ctx);
      let twin: Child | undefined;
      try {
        twin = await startChild(`${s.name} twin`, s.twin!.file, { PATH: process.env.PATH, TWIN_DATABASE_PATH: join(dir, `${s.name}.db`), ...s.twin!.env }, '/healthz');
        const toService = requestMaker(s.request(ctx));
        const toTwin = requestMaker(s.request(context(twin.url)));
        for (let i = 0; i < 4; i++) {
          const [a, b] = await Promise.all(
            [
              [served.url, toService()],
              [twin.url, toTwin()],
            ].map(async ([base, r]) => {
              const req = r as ReturnType<typeof toService>;
              const res = await fetch(String(base) + req.path, { method: req.method, headers: req.headers, body: req.body as string | undefined });
              return { status: res.status, type: res.headers.get('content-type'), body: normalise(await res.text()) };
            }),
          );
          expect(a!.status).toBe(200);
          expect(b).toEqual(a);
        }
      } finally {
        await twin?.stop();
      }
    });
  }
});
