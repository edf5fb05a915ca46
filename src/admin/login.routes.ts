import type { Request, Response, Router } from 'express';
import { iso } from '../clock.js';
import type { Config } from '../config.js';
import { readBody } from '../http/body.js';
import { AppError } from '../http/errors.js';
import { safeNext, sendLoginPage } from '../http/htmlPages.js';
import { Params } from '../http/params.js';
import { queryPairs } from '../http/query.js';
import { handle, send } from '../http/respond.js';
import { route } from '../http/routing.js';
import { SESSION_COOKIE, SESSION_SECONDS, type Sessions } from './session.js';

/**
 * `GET /admin/login` (the form), `POST /admin/login` (token → session cookie) and
 * `POST /admin/logout` (docs/http.md §8.2). Mounted before the admin guard: these are the only
 * /admin paths a caller without a session may use (the IP allowlist still applies).
 */

const DEFAULT_NEXT = '/admin/prod/board';

function cookie(req: Request, value: string, maxAge: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/admin; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`;
}

export function loginRoutes(router: Router, config: Config, sessions: Sessions): void {
  const enabled = config.ADMIN_TOKEN !== undefined;

  route(router, '/admin/login', {
    get: (req: Request, res: Response) => {
      res.locals.route = '/admin/login';
      const next = safeNext(queryPairs(req).find(([k]) => k === 'next')?.[1]);
      sendLoginPage(res, { status: 200, next, enabled });
    },
    post: [
      readBody(),
      handle((req, res) => {
        res.locals.route = '/admin/login';
        const input = res.locals.input;
        const fromForm = input?.kind === 'form';
        // The token is read from the body only: a URL ends up in histories and proxy logs.
        const fields = input?.fields ?? [];
        const params = new Params([Array.isArray(fields) ? fields : Object.entries(fields)]);
        const token = params.string('token', { max: 1024 }) ?? '';
        const next = safeNext(params.string('next', { max: 512 })) ?? DEFAULT_NEXT;
        const role = token === '' ? undefined : sessions.roleOfToken(token);
        if (!role) {
          const message = enabled ? 'That token is not valid.' : 'Logins are off: set ADMIN_TOKEN on the service.';
          if (fromForm) return sendLoginPage(res.set('Cache-Control', 'no-store'), { status: 401, next, error: message, enabled });
          throw new AppError('UNAUTHORIZED', enabled ? 'token is not ADMIN_TOKEN or BOARD_TOKEN' : 'logins are off: set ADMIN_TOKEN', 'token');
        }
        const session = sessions.issue(role);
        res.setHeader('Set-Cookie', cookie(req, session.value, SESSION_SECONDS));
        res.setHeader('Cache-Control', 'no-store');
        if (fromForm) {
          res.status(303).location(next).end();
          return;
        }
        send(req, res, 200, { role, expiresAt: iso(session.expiresAt) });
      }),
    ],
  });

  route(router, '/admin/logout', {
    post: handle(async (req: Request, res: Response) => {
      res.locals.route = '/admin/logout';
      // Ends the session on every instance, not only in this browser.
      await sessions.revoke(req);
      res.setHeader('Set-Cookie', cookie(req, '', 0));
      res.setHeader('Cache-Control', 'no-store');
      // A browser's form goes back to the login page; an API caller gets 204.
      if (req.accepts(['application/json', 'text/html']) === 'text/html' && /text\/html/i.test(req.headers.accept ?? '')) {
        res.status(303).location('/admin/login').end();
      } else res.status(204).end();
    }),
  });
}
