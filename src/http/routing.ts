import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { AppError } from './errors.js';

/** Stages are separate worlds (docs/http.md §2); only the exact lowercase names exist. */
export type Stage = 'prod' | 'test';

export function parseStage(value: unknown): Stage {
  if (value === 'prod' || value === 'test') return value;
  throw new AppError('NOT_FOUND', 'no such path');
}

type Verb = 'get' | 'post' | 'put' | 'delete';

/**
 * Register a path with its handlers and answer any other method with 405 + Allow (docs/http.md §1.5).
 * `guard` runs first for every method, so e.g. a bad stage is a 404 whatever the method.
 */
export function route(
  router: Router,
  path: string,
  handlers: Partial<Record<Verb, RequestHandler | RequestHandler[]>>,
  guard?: RequestHandler,
): void {
  const r = router.route(path);
  if (guard) r.all(guard);
  const allow: string[] = [];
  for (const verb of ['get', 'post', 'put', 'delete'] as const) {
    const h = handlers[verb];
    if (!h) continue;
    r[verb](...(Array.isArray(h) ? h : [h]));
    allow.push(verb.toUpperCase());
    if (verb === 'get') allow.push('HEAD');
  }
  r.all((_req: Request, _res: Response, next: NextFunction) => {
    next(new AppError('METHOD_NOT_ALLOWED', 'method not allowed on this path', undefined, {}, { Allow: allow.join(', ') }));
  });
}

/** Route guard: 404 unless `:stage` is `prod` or `test`. */
export const stageGuard: RequestHandler = (req, _res, next) => {
  try {
    parseStage(req.params.stage);
    next();
  } catch (e) {
    next(e);
  }
};
