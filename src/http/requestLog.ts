import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { withoutRedaction, type Logger } from '../observability/logger.js';
import { boundChildren, type Metrics } from '../observability/metrics.js';

const INCOMING_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** X-Request-Id (echoed when well-formed), one log line and one histogram sample per request. */
export function requestLog(logger: Logger, metrics: Metrics) {
  // The line's keys are the fixed ones below, none secret-named: nothing for redaction to do.
  const lines = withoutRedaction(logger);
  const logging = lines.isLevelEnabled('info');
  const duration = boundChildren(metrics.httpDuration);
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = res.locals.route ?? (req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
      duration(req.method, route, String(res.statusCode)).observe(seconds);
      if (!logging) return;
      const line: Record<string, unknown> = { reqId, method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1e4) / 10 };
      // docs/http.md §8.1: the webhook method served and the error code of a failed request.
      if (res.locals.webhookMethod) line.webhookMethod = res.locals.webhookMethod;
      if (res.locals.errorCode) line.code = res.locals.errorCode;
      lines.info(line, 'request');
    });
    next();
  };
}
