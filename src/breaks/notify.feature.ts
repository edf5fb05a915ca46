import type { AppDeps } from '../deps.js';
import type { PauseChangeEvent } from '../events/bus.js';
import type { Feature } from '../webhook/registry.js';
import { ChangeNotifier } from './notifier.js';

/**
 * With EVENTS_WEBHOOK_URL set, forward every committed pause change to it (signed, retried, never
 * holding up the change). Subscribes on start so tools and tests that only need routes send nothing.
 */
export function createNotifyFeature(deps: AppDeps): Feature | undefined {
  const { config, bus, clock, logger, metrics } = deps;
  if (!config.EVENTS_WEBHOOK_URL || !config.EVENTS_WEBHOOK_SECRET) return undefined;
  const notifier = new ChangeNotifier({ url: config.EVENTS_WEBHOOK_URL, secret: config.EVENTS_WEBHOOK_SECRET, clock, logger, metrics });
  const onChange = (e: PauseChangeEvent) => notifier.enqueue(e);
  return {
    name: 'events-webhook',
    start() {
      bus.on('pauseChange', onChange);
    },
    async stop() {
      bus.off('pauseChange', onChange);
      await notifier.stop();
    },
  };
}
