import type { Config } from './config.js';
import type { Stores } from './db/stores.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Clock } from './clock.js';
import type { EventBus } from './events/bus.js';

/** What every feature is built from; passed explicitly, never read from module singletons. */
export interface AppDeps {
  /** Every feature's storage (src/db/stores.ts); features never see the database engine. */
  stores: Stores;
  config: Config;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  /** Committed changes, for listeners that must not block them (SSE, notifications). */
  bus: EventBus;
}
