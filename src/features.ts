import type { AppDeps } from './deps.js';
import type { Feature } from './webhook/registry.js';
import { loadIvrCatalog } from './ivr/ivr.catalog.js';
import { createPauseFeature } from './pause/pause.feature.js';
import { createIvrFeature } from './ivr/ivr.feature.js';
import { createDeliveryFeature } from './delivery/delivery.feature.js';
import { createMappingFeature } from './mapping/mapping.feature.js';
import { createOutboundFeature } from './outbound/outbound.feature.js';
import { createBreaksFeature } from './breaks/breaks.feature.js';
import { userPrefsFeature } from './userprefs/userprefs.feature.js';
import { shortUrlFeature } from './shorturl/shorturl.feature.js';

/**
 * The product's features, in mounting order. Each feature is built from the shared deps and
 * contributes webhook methods, routes, a fallback and background work.
 */
export function createFeatures(deps: AppDeps): Feature[] {
  // IVR prompts and menus are checked here, so invalid data stops start-up with one line.
  const ivr = loadIvrCatalog(deps.config.IVR_DIR, deps.config.IVR_LANGUAGE);
  const pause = createPauseFeature(deps, ivr.languages);
  const breaks = createBreaksFeature(deps, pause.service, ivr.reasons);
  const delivery = createDeliveryFeature(deps);
  return [
    // Before the features that write deliveries, so it stops after them (features stop in
    // reverse) and sends what their last writes queued.
    ...(delivery ? [delivery] : []),
    pause.feature,
    createIvrFeature(deps, pause.service, ivr),
    breaks.feature,
    createMappingFeature(),
    createOutboundFeature(deps),
    userPrefsFeature(deps),
    shortUrlFeature(deps),
  ];
}
