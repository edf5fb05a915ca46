import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

/**
 * Routers dispatched by the first segment of the request path. Each mount registers its routes
 * and middleware on its own router, as it would on the app; the paths it registers are noted, so
 * a request runs only the mounts that registered a path under its first segment (`/ivr/…` →
 * the IVR's), plus the mounts with a path that can match any first segment (a plain middleware,
 * a leading parameter such as the short links' `/{code}`), in mounting order. A request thus
 * reaches its route without walking every feature's routes; what each router answers, and in
 * which order the mounts are tried, is what it would be with every router mounted at `/`.
 */
export type Mount = (router: Router) => void;

/** Any first segment: a mount whose router may answer every path. */
const ANY = Symbol('any');

/** `/admin/:stage/agents` → `admin`; `/:code`, `/{*rest}` or a middleware without a path → ANY. */
function firstSegmentOf(path: unknown): string | typeof ANY {
  if (typeof path !== 'string' || !path.startsWith('/')) return ANY;
  const segment = path.slice(1).split('/')[0]!;
  return segment === '' || /[:*{}()?+\\]/.test(segment) ? ANY : segment;
}

/** A router that notes the first segment of every path registered on it. */
function noting(router: Router, seen: Set<string | typeof ANY>): Router {
  const noteFirst = (args: unknown[]) => {
    const paths = Array.isArray(args[0]) ? (args[0] as unknown[]) : [args[0]];
    for (const p of paths) seen.add(typeof p === 'function' ? ANY : firstSegmentOf(p));
  };
  return new Proxy(router, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (key === 'route' || key === 'use' || key === 'all' || key === 'get' || key === 'post' || key === 'put' || key === 'delete' || key === 'patch') {
        return (...args: unknown[]) => {
          noteFirst(args);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
}

/** What `dispatchByFirstSegment` returns: the middleware, and whether any of its routers may answer a path. */
export type Dispatcher = RequestHandler & {
  /** False when no mount registered the path's first segment nor any-path routes: the middleware would only call next(). */
  serves(path: string): boolean;
  stack: { handle: Router }[];
};

/** `/admin/test/agents` → `admin`; `/` → ``. */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

/** One middleware running `mounts` by the request's first path segment (see above). */
export function dispatchByFirstSegment(mounts: Mount[]): Dispatcher {
  const registered = mounts.map((mount) => {
    const router = express.Router({ caseSensitive: true });
    const seen = new Set<string | typeof ANY>();
    mount(noting(router, seen));
    return { router, seen };
  });
  const anyPath = registered.filter((m) => m.seen.has(ANY)).map((m) => m.router);
  const bySegment = new Map<string, Router[]>();
  for (const segment of new Set(registered.flatMap((m) => [...m.seen].filter((s): s is string => s !== ANY)))) {
    bySegment.set(
      segment,
      registered.filter((m) => m.seen.has(segment) || m.seen.has(ANY)).map((m) => m.router),
    );
  }
  const chainOf = (path: string): Router[] => bySegment.get(firstSegment(path)) ?? anyPath;

  const dispatch = (req: Request, res: Response, next: NextFunction): void => {
    const chain = chainOf(req.path);
    if (chain.length === 0) return next();
    let i = 0;
    // As between app-level routers: an error skips the rest; 'router' ends only the router that said it.
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null && err !== 'router') return next(err);
      const router = chain[i++];
      if (!router) return next();
      router(req, res, step);
    };
    step();
  };
  return Object.assign(dispatch, {
    serves: (path: string) => chainOf(path).length > 0,
    // The mounted routers, as an Express router lists its layers, for what lists the routes served (test/openapi).
    stack: registered.map((m) => ({ handle: m.router })),
  });
}
