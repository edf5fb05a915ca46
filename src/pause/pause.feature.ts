import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { agentsRoutes } from './agents.routes.js';
import { pauseMethods } from './pause.methods.js';
import { createPauseService, type PauseService } from './pause.service.js';

/**
 * Agents and pause state: the webhook methods of docs/http.md §2.1–2.2 and the admin routes of 6.
 * The service is returned too, so features built on pause state (IVR, reports, board,
 * auto-resume) change it through the same `changePause`.
 */
export function createPauseFeature(deps: AppDeps, languages: readonly string[]): { feature: Feature; service: PauseService } {
  const service = createPauseService(deps, { languages });
  const feature: Feature = {
    name: 'pause',
    methods: pauseMethods(service, deps.config),
    routes: (router) => agentsRoutes(router, service, deps.config),
  };
  return { feature, service };
}
