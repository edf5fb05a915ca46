import type { AppDeps } from '../deps.js';
import type { ReasonDefinition } from '../ivr/ivr.catalog.js';
import type { PauseService } from '../pause/pause.service.js';
import type { Feature } from '../webhook/registry.js';
import { createBoardStream } from './board.stream.js';
import { createBreakTimer } from './breakTimer.js';
import { breaksRoutes } from './breaks.routes.js';
import { createBreaksService } from './breaks.service.js';

/**
 * Break visibility: the break report, the live supervisor board (page + SSE) and break timers
 * (over-limit flags, AUTO_RESUME). Built on the pause service, which stays the only writer of
 * pause state.
 */
export function createBreaksFeature(deps: AppDeps, pause: PauseService, reasons: readonly ReasonDefinition[]) {
  const service = createBreaksService(deps, reasons);
  const stream = createBoardStream(deps.bus, service.limitFor);
  const timer = createBreakTimer(deps, service, pause);
  const feature: Feature = {
    name: 'breaks',
    routes: (router) => breaksRoutes(router, service, stream, deps.config, () => deps.clock.now()),
    start: () => timer.start(),
    closing: () => stream.closeAll(),
    async stop() {
      stream.closeAll();
      await timer.stop();
    },
  };
  return { feature, service, timer };
}
