import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import { iso } from '../clock.js';
import { logStream, type Logger } from '../observability/logger.js';
import { boundChildren, type Metrics } from '../observability/metrics.js';

const INCOMING_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** pino's number for `info`, the request line's level. */
const INFO = 30;

const STARTED = Symbol('requestStarted');
const REQUEST_ID = Symbol('requestId');

interface Timed {
  [STARTED]: number;
  [REQUEST_ID]: string;
}

/**
 * One request line as pino writes it (`{"level":30,"time":"…",…,"msg":"request"}`, docs/http.md
 * §0, §8.1), built from the fixed keys below, none secret-named, so neither pino's object walk nor
 * its redaction list has anything to do. `reqId` is well-formed (echoed only when it is) or a UUID;
 * every other string is quoted by JSON.stringify.
 */
export function requestLine(reqId: string, method: string, route: string, status: number, durationMs: number, webhookMethod?: string, code?: string): string {
  let line = `{"level":${INFO},"time":"${iso(Date.now())}","reqId":"${reqId}","method":${JSON.stringify(method)},"route":${JSON.stringify(route)},"status":${status},"durationMs":${durationMs}`;
  if (webhookMethod) line += `,"webhookMethod":${JSON.stringify(webhookMethod)}`;
  if (code) line += `,"code":${JSON.stringify(code)}`;
  return `${line},"msg":"request"}\n`;
}

/**
 * X-Request-Id (echoed when well-formed), one log line and one histogram sample per request.
 * Returns what each request runs before its routes (app.ts calls it in its first layer); the
 * line and the sample are written by one shared 'finish' listener, so a request allocates no
 * closure here.
 */
export function requestLog(logger: Logger, metrics: Metrics): (req: Request, res: Response) => void {
  const stream = logStream(logger);
  const logging = logger.isLevelEnabled('info');
  const duration = boundChildren(metrics.httpDuration);
  function finished(this: Response): void {
    const res = this;
    const req = res.req;
    const timed = res as unknown as Timed;
    const seconds = (performance.now() - timed[STARTED]) / 1000;
    const route = res.locals.route ?? (req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
    duration(req.method, route, String(res.statusCode)).observe(seconds);
    if (!logging) return;
    // docs/http.md §8.1: the webhook method served and the error code of a failed request.
    stream.write(requestLine(timed[REQUEST_ID], req.method, route, res.statusCode, Math.round(seconds * 1e4) / 10, res.locals.webhookMethod, res.locals.errorCode));
  }
  return (req: Request, res: Response): void => {
    const timed = res as unknown as Timed;
    timed[STARTED] = performance.now();
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    timed[REQUEST_ID] = reqId;
    res.setHeader('X-Request-Id', reqId);
    // 'finish' is emitted once per response (never for one the client abandoned), so `on` is `once` here.
    res.on('finish', finished);
  };
}
