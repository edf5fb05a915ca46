import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { userPrefsMethods } from './userprefs.methods.js';
import { UserPrefsService } from './userprefs.service.js';

/** User preferences: per-caller key/value variables for Central flows (docs/http.md §2.5). */
export function userPrefsFeature(deps: AppDeps): Feature {
  const service = new UserPrefsService(deps.stores.userPrefs, deps.clock, deps.metrics);
  return { name: 'userprefs', methods: userPrefsMethods(service, deps.config) };
}
