import type { AppDeps } from './deps.js';
import type { Feature } from './webhook/registry.js';

/**
 * The product's features, in mounting order. Each feature is built from the shared deps and
 * contributes webhook methods, routes and background work. A feature whose routes catch
 * everything at the root (short-URL redirects) goes last.
 */
export function createFeatures(_deps: AppDeps): Feature[] {
  return [];
}
