import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { ChangeNotifier } from './notifier.js';

/**
 * With EVENTS_WEBHOOK_URL set, forward every committed pause change to it (signed, retried, never
 * holding up the change). The pause service queues each change in the outbox (`notify`, see
 * pause.service.ts); the sender starts with the service, so tools and tests that only need routes
 * send nothing. A change on this instance wakes it at once; other instances' are found by polling.
 */
export function createNotifyFeature(deps: AppDeps): Feature | undefined {
  const { config, bus, clock, logger, metrics } = deps;
  if (!config.EVENTS_WEBHOOK_URL || !config.EVENTS_WEBHOOK_SECRET) return undefined;
  const notifier = new ChangeNotifier({
    store: deps.stores.notifications,
    url: config.EVENTS_WEBHOOK_URL,
    secret: config.EVENTS_WEBHOOK_SECRET,
    clock,
    logger,
    metrics,
  });
  const onChange = () => notifier.wake();
  return {
    name: 'events-webhook',
    start() {
      bus.on('pauseChange', onChange);
      notifier.start();
    },
    async stop() {
      bus.off('pauseChange', onChange);
      await notifier.stop();
    },
  };
}
