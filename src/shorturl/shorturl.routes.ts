import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Config } from '../config.js';
import { clientOf } from '../http/access.js';
import { rejection, type Limiters } from '../http/limits.js';
import { readBody } from '../http/body.js';
import { AppError } from '../http/errors.js';
import { Params } from '../http/params.js';
import { handle, send } from '../http/respond.js';
import { route, stageGuard } from '../http/routing.js';
import type { Clock } from '../clock.js';
import { checkLongUrl, checkSlug, parseIsoInstant, SLUG } from './shorturl.rules.js';
import type { Resolution, ShortUrlService } from './shorturl.service.js';
import type { TokenBook, TokenEntry } from './tokens.js';

/** Wrong custTokens allowed per client address per minute (docs/http.md §7.4). */
const BAD_TOKENS_PER_MINUTE = 10;

/** `/{code}`: a generated code or a slug, optionally with a trailing slash. */
const CODE_PATH = /^\/([A-Za-z0-9_-]{4,64})\/?$/;

export interface ShortUrlRouteDeps {
  service: ShortUrlService;
  tokens: TokenBook;
  ownHosts: ReadonlySet<string>;
  config: Config;
  clock: Clock;
  /** The service's limiter factory (src/http/limits.ts). */
  limiters: Limiters;
}

/** Blank optional fields (`customSlug=` in a form, `<expiresAt/>`) mean "not given". */
const optional = (params: Params, name: string): string | undefined => {
  const v = params.string(name);
  return v === undefined || v.trim() === '' ? undefined : v;
};

const codeParam = (req: Request): string => (typeof req.params.code === 'string' ? req.params.code : '');

/** Routes of docs/http.md §3 but the redirect (shortLinkRedirect). */
export function shortUrlRoutes(router: Router, deps: ShortUrlRouteDeps): void {
  const { service, tokens, ownHosts, config, clock, limiters } = deps;
  const perMinute = config.SHORTURL_CREATES_PER_MINUTE;
  const limiter = perMinute > 0 ? limiters({ name: 'shortUrlCreates', points: perMinute, durationSeconds: 60 }) : undefined;
  // docs/http.md §7.4: token guessing and code guessing are throttled per client address.
  const badTokens = limiters({ name: 'shortUrlBadTokens', points: BAD_TOKENS_PER_MINUTE, durationSeconds: 60 });
  const TOO_MANY_BAD_TOKENS = 'too many wrong custTokens from this address, try again later';

  /**
   * The token of `given`, or undefined when it is wrong. Wrong tokens count per client address,
   * on creation and on stats (which would otherwise tell a right token from a wrong one for any
   * public link); the 11th in a minute, and every request after it in that minute, → 429.
   */
  const checkToken = async (req: Request, given: string): Promise<TokenEntry | undefined> => {
    const key = clientOf(req).limitKey;
    const seen = await badTokens.get(key);
    if (seen && seen.consumedPoints > BAD_TOKENS_PER_MINUTE) throw rejection(seen, TOO_MANY_BAD_TOKENS);
    const token = tokens.find(given);
    if (!token) await badTokens.consume(key).catch((r: unknown) => Promise.reject(rejection(r, TOO_MANY_BAD_TOKENS)));
    return token;
  };

  const authenticate = async (req: Request, params: Params): Promise<TokenEntry> => {
    const token = await checkToken(req, params.requireString('custToken', { max: 256 }));
    if (!token) throw new AppError('UNAUTHORIZED', 'custToken is not valid', 'custToken');
    return token;
  };

  route(router, '/UrlShortner/phonon/shortUrl', {
    post: [
      readBody(),
      handle(async (req, res) => {
        res.locals.failure = { shortUrl: null };
        const params = Params.fromRequest(req, res);
        const token = await authenticate(req, params);
        // Every authenticated attempt counts, valid or not, so the limit also bounds probing.
        if (limiter) await limiter.consume(token.hash).catch((r: unknown) => Promise.reject(rejection(r, 'too many short URLs for this token, try again later')));
        const longUrl = checkLongUrl(params.requireString('longUrl'), ownHosts);
        const slugText = optional(params, 'customSlug');
        const expiresText = optional(params, 'expiresAt');
        const slug = slugText === undefined ? undefined : checkSlug(slugText);
        const expiresAt = expiresText === undefined ? undefined : parseIsoInstant('expiresAt', expiresText);
        if (expiresAt !== undefined && expiresAt <= clock.now()) throw new AppError('INVALID_PARAMETER', 'expiresAt must be in the future', 'expiresAt');
        const link = await service.create({ token, longUrl, slug, expiresAt });
        send(req, res, 200, { shortUrl: link.shortUrl });
      }),
    ],
  });

  route(router, '/UrlShortner/phonon/stats/:code', {
    get: handle(async (req, res) => {
      const params = Params.fromRequest(req, res);
      const token = await checkToken(req, params.requireString('custToken', { max: 256 }));
      const code = codeParam(req);
      const stats = token && SLUG.test(code) ? await service.stats(code, token) : undefined;
      // Not the owner, a revoked token or no such link: one answer, so nothing can be probed.
      if (!stats) throw new AppError('NOT_FOUND', 'no such short link for this token');
      send(req, res, 200, { ...stats });
    }),
  });

  // docs/http.md §6: links are stage-less, so either stage's admin path names the same link.
  route(
    router,
    '/admin/:stage/links/:code',
    {
      delete: handle(async (req, res) => {
        const code = codeParam(req);
        if (!SLUG.test(code) || !(await service.remove(code))) throw new AppError('NOT_FOUND', 'no such short link', 'code');
        res.status(204).end();
      }),
    },
    stageGuard,
  );
}

export interface ShortLinkRedirectDeps {
  service: ShortUrlService;
  config: Config;
  /** The service's limiter factory (src/http/limits.ts). */
  limiters: Limiters;
}

/**
 * `GET|HEAD /{code}` (docs/http.md §3): the feature's fallback, run after every feature's routes
 * (it catches single-segment paths). A plain middleware rather than `router.get('/:code')`: an
 * Express route would also answer OPTIONS for every single-segment path, where the app's 404
 * belongs. A link in the cache is answered without waiting for anything.
 */
export function shortLinkRedirect({ service, config, limiters }: ShortLinkRedirectDeps): RequestHandler {
  const status = config.SHORTURL_REDIRECT_STATUS;
  const missesPerMinute = config.SHORTURL_MISSES_PER_MINUTE;
  const misses = missesPerMinute > 0 ? limiters({ name: 'shortUrlMisses', points: missesPerMinute, durationSeconds: 60 }) : undefined;
  // Known codes always redirect; only misses count, so guessing codes is slowed to
  // SHORTURL_MISSES_PER_MINUTE per address (docs/http.md §7.4).
  const countMiss = async (req: Request): Promise<void> => {
    await misses!.consume(clientOf(req).limitKey).catch((r: unknown) => Promise.reject(rejection(r, 'too many unknown short links from this address, try again later')));
  };

  const answer = (req: Request, res: Response, next: NextFunction, found: Resolution): void => {
    if (found.kind === 'unknown') {
      // Left to the app's 404, as is anything that cannot be a code, so both get the very same
      // reply and the redirect cannot be used to tell which codes exist.
      if (!misses) return next();
      countMiss(req).then(() => next(), next);
      return;
    }
    res.locals.route = '/:code';
    if (found.kind === 'gone') return next(new AppError('GONE', 'this short link has expired'));
    res.statusCode = status;
    res.setHeader('Location', found.longUrl);
    // Browsers must come back to us (to count the visit) rather than replay a cached redirect.
    res.setHeader('Cache-Control', 'private, max-age=0');
    res.end();
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const code = CODE_PATH.exec(req.path)?.[1];
    if (code === undefined) return next();
    const countVisit = req.method === 'GET';
    const known = service.resolveCached(code, countVisit);
    if (known) return answer(req, res, next, known);
    service.resolve(code, countVisit).then((found) => answer(req, res, next, found), next);
  };
}
