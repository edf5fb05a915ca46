import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AppDeps } from './deps.js';
import { AppError } from './http/errors.js';
import { accessGuards, adminGuard, applyProxyRules } from './http/access.js';
import { hostAndOrigin } from './http/hostOrigin.js';
import { requestLog } from './http/requestLog.js';
import { errorHandler, handle, send } from './http/respond.js';
import { route } from './http/routing.js';
import { centralWebhookRoutes } from './webhook/central.routes.js';
import { dispatchByFirstSegment } from './http/dispatch.js';
import { createFeatures } from './features.js';
import { createSessions } from './admin/session.js';
import { loginRoutes } from './admin/login.routes.js';
import { openApiRoute } from './http/openapi.routes.js';
import type { Feature } from './webhook/registry.js';

/** Paths behind the IP allowlist and the per-IP rate limit (docs/http.md §1.4; short-URL creation since §7.4). */
export const GUARDED_PREFIXES = ['/centraloutboundwebhook-v1', '/ivr', '/mapping', '/admin', '/metrics', '/UrlShortner/phonon/shortUrl'];

export interface App {
  http: Express;
  features: Feature[];
  /** Start background work (scheduler, flushers). */
  start(): void;
  /** The server stopped accepting: end long-lived responses (SSE) so in-flight requests can finish. */
  closing(): void;
  /** Requests being served now (event streams included until they end). */
  inFlight(): number;
  /** Stop background work and flush what must be kept. */
  stop(): Promise<void>;
}

/** Build the service; never listens (server.ts does). */
export function createApp(deps: AppDeps, features: Feature[] = createFeatures(deps)): App {
  const { config, logger, metrics, stores } = deps;
  const app = express();
  app.disable('x-powered-by');
  applyProxyRules(app, config);
  app.set('case sensitive routing', true);
  app.set('etag', false);

  // What every request runs before its routes, in one app layer, in this order: its log line and
  // sample (src/http/requestLog.ts), the count of requests in flight, the Host/Origin rules
  // (before anything else; /healthz is exempt from the Host rule, docs/http.md §7.3), health and
  // the OpenAPI document (public, answered over plain HTTP too so load balancers can probe it),
  // the access rules (src/http/access.ts), then the routers of the path's first segment
  // (src/http/dispatch.ts). Express walks no layer between them.
  const logRequest = requestLog(logger, metrics);
  const checkHostAndOrigin = hostAndOrigin(config);
  const early = dispatchByFirstSegment([
    (router) =>
      route(router, '/healthz', {
        get: handle(async (req, res) => {
          await stores.ping();
          send(req, res, 200, { status: 'ok' });
        }),
      }),
    (router) => openApiRoute(router),
  ]);
  const guards = accessGuards({ config, logger, limiters: stores.limiters, guardedPrefixes: GUARDED_PREFIXES });
  const sessions = createSessions(config, deps.clock, stores.sessions);
  const methods = features.flatMap((f) => f.methods ?? []);
  const routes = dispatchByFirstSegment([
    // Sign-in first: the only /admin paths served without a session (docs/http.md §8.2).
    (router) => loginRoutes(router, config, sessions),
    (router) => router.use('/admin', adminGuard(config, sessions)),
    (router) =>
      route(router, '/metrics', {
        get: handle(async (_req, res) => {
          res.locals.route = '/metrics';
          res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
        }),
      }),
    (router) => centralWebhookRoutes(router, methods),
    ...features.flatMap((f) => (f.routes ? [(router: express.Router) => f.routes!(router)] : [])),
  ]);
  const guarded = (req: Request, res: Response, next: NextFunction): void => {
    guards(req, res, (err?: unknown) => (err ? next(err) : routes(req, res, next)));
  };
  // While stopping, every reply closes its connection, so no browser keeps a socket to this process (docs/http.md §8.3).
  let stopping = false;
  let inFlight = 0;
  // 'close' is emitted once per response, also for one the client abandoned.
  const ended = (): void => void inFlight--;
  const beforeRoutes = (req: Request, res: Response, next: NextFunction): void => {
    logRequest(req, res);
    inFlight++;
    res.on('close', ended);
    if (stopping) res.setHeader('Connection', 'close');
    const path = req.path;
    const refused = checkHostAndOrigin(req, path);
    if (refused) return next(refused);
    if (!early.serves(path)) return guarded(req, res, next);
    early(req, res, (err?: unknown) => (err ? next(err) : guarded(req, res, next)));
  };
  // With the routers it runs, as an Express router lists its layers, for what lists the routes served (test/openapi).
  app.use(Object.assign(beforeRoutes, { stack: [...early.stack, ...routes.stack] }));

  // What no route answered: the features' fallbacks (the short links' `/{code}`), then 404.
  for (const f of features) if (f.fallback) app.use(f.fallback);
  app.use((_req, _res, next) => next(new AppError('NOT_FOUND', 'no such path')));
  app.use(errorHandler(logger));

  let started = false;
  return {
    http: app,
    features,
    start() {
      if (started) return;
      started = true;
      for (const f of features) f.start?.();
    },
    inFlight: () => inFlight,
    closing() {
      stopping = true;
      for (const f of features) f.closing?.();
    },
    async stop() {
      for (const f of [...features].reverse()) await f.stop?.();
    },
  };
}
