import type { NextFunction, Request, Response } from 'express';
import { AppError } from './errors.js';
import { queryPairs } from './query.js';
import { renderXml, renderXmlList } from '../xml/render.js';
import type { Logger } from '../observability/logger.js';
import { prefersHtml, safeNext, sendErrorPage, sendLoginPage } from './htmlPages.js';

/**
 * The one responder every route uses: decides JSON or XML once (docs/http.md §1.3), renders, and
 * turns any error into the contract's envelope. Features never format replies themselves.
 */

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Route label for logs and metrics, e.g. `/admin/:stage/agents/:cli`. */
      route?: string;
      /** The method's own result fields with their failure values, merged into error replies. */
      failure?: Record<string, unknown>;
      /** The central webhook method served, for the request log line (docs/http.md §8.1). */
      webhookMethod?: string;
      /** The error code of a failed request, for the request log line. */
      errorCode?: string;
      /** Whether /admin/login can sign anyone in (ADMIN_TOKEN is set); for the 401 login page. */
      loginEnabled?: boolean;
      /** Force the reply format (the IVR always answers XML). */
      format?: 'json' | 'xml';
    }
  }
}

export type Format = 'json' | 'xml';

const XML_TYPES = ['application/xml', 'text/xml'];

export function negotiate(req: Request, res: Response): Format {
  if (res.locals.format) return res.locals.format;
  const f = queryPairs(req).find(([name]) => name === 'format')?.[1].toLowerCase();
  if (f === 'xml' || f === 'json') return f;
  const accept = req.headers.accept?.trim();
  if (!accept || accept === '*/*') return res.locals.bodyKind === 'xml' ? 'xml' : 'json';
  const best = req.accepts(['application/json', ...XML_TYPES]);
  return typeof best === 'string' && XML_TYPES.includes(best) ? 'xml' : 'json';
}

function routeLabel(req: Request): string | undefined {
  return req.route ? `${req.baseUrl}${String(req.route.path)}` : undefined;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const XML_TYPE = 'application/xml; charset=utf-8';

/**
 * The reply's text with the headers Express's res.json/res.send would give it (Content-Type,
 * Content-Length; no ETag, which app.ts turns off), without their content-type parsing and
 * settings look-ups. Express answers the few cases this does not handle itself: a status whose
 * reply has no body (204, 205, 304), a Content-Type set earlier, and a conditional request
 * (If-None-Match, If-Modified-Since), which Express may turn into a 304.
 */
function reply(req: Request, res: Response, status: number, type: string, text: string): void {
  res.status(status);
  const h = req.headers;
  const typed = res.getHeader('content-type') !== undefined;
  if (typed || status === 204 || status === 205 || status === 304 || h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) {
    // As res.json (keeps a Content-Type set earlier) and res.type(XML).send did.
    if (type === XML_TYPE || !typed) res.type(type);
    res.send(text);
    return;
  }
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (req.method === 'HEAD') res.end();
  else res.end(text, 'utf8');
}

export function send(req: Request, res: Response, status: number, data: Record<string, unknown>): void {
  res.locals.route ??= routeLabel(req);
  if (negotiate(req, res) === 'xml') reply(req, res, status, XML_TYPE, renderXml(data));
  else reply(req, res, status, JSON_TYPE, JSON.stringify(data));
}

/** A reply whose JSON is a top-level array (lists such as agents or events); XML gets repeated `<item>`. */
export function sendList(req: Request, res: Response, status: number, items: unknown[]): void {
  res.locals.route ??= routeLabel(req);
  if (negotiate(req, res) === 'xml') reply(req, res, status, XML_TYPE, renderXmlList(items));
  else reply(req, res, status, JSON_TYPE, JSON.stringify(items));
}

/**
 * Browsers get HTML error pages on /admin/* and for short links (docs/http.md §8.2): the admin
 * pages, an expired link (410), and the app's 404 for a GET, which is also what an unknown short
 * code gets. Everyone else keeps the JSON/XML envelope.
 */
function wantsErrorPage(req: Request, res: Response, err: AppError): boolean {
  if (res.locals.format || !prefersHtml(req)) return false;
  const path = req.originalUrl.split('?')[0]!;
  if (path === '/admin' || path.startsWith('/admin/')) return true;
  if (res.locals.route === '/:code') return true;
  return err.code === 'NOT_FOUND' && (req.method === 'GET' || req.method === 'HEAD') && res.locals.route === undefined;
}

export function sendError(req: Request, res: Response, err: AppError): void {
  res.locals.errorCode = err.code;
  for (const k in err.headers) res.setHeader(k, err.headers[k]!);
  if (wantsErrorPage(req, res, err)) {
    if (err.status === 401) {
      const next = req.method === 'GET' ? safeNext(req.originalUrl) : undefined;
      return sendLoginPage(res, { status: 401, next, enabled: res.locals.loginEnabled ?? false });
    }
    return sendErrorPage(res, err.status, err.code, err.message);
  }
  const failure = res.locals.failure;
  send(req, res, err.status, failure ? { ...failure, error: err.toBody() } : { error: err.toBody() });
}

/** Express error middleware: AppErrors as they are, anything else as INTERNAL without details. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof AppError) return sendError(req, res, err);
    // Express's router fails to decode a malformed percent-encoded path parameter (docs/http.md §7.4).
    if (err instanceof URIError) return sendError(req, res, new AppError('INVALID_PARAMETER', 'the path has malformed percent-encoding'));
    // Never log a stack or a message (it may carry SQL text or user data): type and code only.
    const e = err as { name?: string; code?: string };
    logger.error({ reqId: res.getHeader('x-request-id'), errType: e?.name, errCode: e?.code }, 'unhandled error');
    sendError(req, res, new AppError('INTERNAL', 'internal error'));
  };
}

/** Wrap an async route so a rejected promise reaches the error handler. */
export function handle(fn: (req: Request, res: Response) => unknown) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      const r = fn(req, res);
      if (r instanceof Promise) r.catch(next);
    } catch (e) {
      next(e);
    }
  };
}
