import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { serviceHosts } from '../http/hostOrigin.js';
import { shortLinkRedirect, shortUrlRoutes } from './shorturl.routes.js';
import { ShortUrlService, type ShortUrlServiceOptions } from './shorturl.service.js';
import { TokenBook } from './tokens.js';
import { VisitCounter } from './visitCounter.js';

/** How often counted visits are written while running. */
const FLUSH_INTERVAL_MS = 1_000;

/**
 * Short URLs (docs/http.md §3): creation, stats and the public redirect `/{code}`, the feature's
 * fallback: it catches single-segment paths, so it runs after every feature's routes.
 */
export function shortUrlFeature(deps: AppDeps, options: ShortUrlServiceOptions = {}): Feature {
  const { config, logger, clock, metrics } = deps;
  const store = deps.stores.shortUrls;
  const visits = new VisitCounter(
    (batch) => store.addVisits(batch),
    (err) => logger.error({ errType: (err as Error)?.name, errCode: (err as { code?: string })?.code }, 'visit counts not written; kept for the next flush'),
  );
  const service = new ShortUrlService(store, visits, clock, metrics, options);
  const tokens = new TokenBook(config.SHORTURL_TOKENS, config.SHORTURL_BASE_URL);
  // Every name the service answers to (docs/http.md §7.3): a link there would lead back here.
  const ownHosts = serviceHosts(config);
  let timer: NodeJS.Timeout | undefined;

  return {
    name: 'shorturl',
    routes: (router) => shortUrlRoutes(router, { service, tokens, ownHosts, config, clock, limiters: deps.stores.limiters }),
    fallback: shortLinkRedirect({ service, config, limiters: deps.stores.limiters }),
    start() {
      timer ??= setInterval(() => void visits.flush(), FLUSH_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await visits.drain();
    },
  };
}
