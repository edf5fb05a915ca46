import type { AppDeps } from '../deps.js';
import type { PauseService } from '../pause/pause.service.js';
import type { Feature } from '../webhook/registry.js';
import type { IvrCatalog } from './ivr.catalog.js';
import { ivrRoutes } from './ivr.routes.js';
import { createIvrService } from './ivr.service.js';

/** Stored IVR replies are kept one day: far longer than any platform retries a request. */
const STEP_TTL_MS = 24 * 60 * 60 * 1000;
/** Call ids are remembered a week (docs/http.md §7.1), longer than IVR_CALL_MAX_MINUTES may be. */
const CALL_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** The inbound DID IVR (docs/http.md §4): agents dial in to go on or come off break. */
export function createIvrFeature(deps: AppDeps, service: PauseService, catalog: IvrCatalog): Feature {
  const steps = deps.stores.ivrSteps;
  const ivr = createIvrService({ config: deps.config, clock: deps.clock, pause: service, catalog, steps });
  let timer: NodeJS.Timeout | undefined;
  const prune = () => {
    const now = deps.clock.now();
    Promise.all([steps.prune(now - STEP_TTL_MS), steps.pruneCalls(now - CALL_TTL_MS)]).catch((e: unknown) => {
      deps.logger.error({ errType: (e as Error)?.name }, 'pruning stored IVR replies failed');
    });
  };
  return {
    name: 'ivr',
    routes: (router) => ivrRoutes(router, deps, ivr),
    start() {
      prune();
      timer = setInterval(prune, PRUNE_EVERY_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
