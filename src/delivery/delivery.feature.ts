import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { OutboxSender } from './sender.js';

/**
 * The sender of the outbox (docs/http.md §9.6, §11): change notifications when EVENTS_WEBHOOK_URL
 * is set, and createOutbound's statusCallbackUrl deliveries, which can exist whenever
 * EVENTS_WEBHOOK_SECRET is set (it signs both, and EVENTS_WEBHOOK_URL needs it). The rows are
 * written by the state changes themselves (pause.service.ts, the outbound stores); the sender
 * starts with the service, so tools and tests that only need routes send nothing. A change on this
 * instance wakes it at once (`deliveryQueued` on the bus); other instances' rows
 * are found by polling.
 */
export function createDeliveryFeature(deps: AppDeps): Feature | undefined {
  const { config, bus, clock, logger, metrics } = deps;
  if (!config.EVENTS_WEBHOOK_SECRET) return undefined;
  const sender = new OutboxSender({
    store: deps.stores.outbox,
    eventsUrl: config.EVENTS_WEBHOOK_URL,
    secret: config.EVENTS_WEBHOOK_SECRET,
    clock,
    logger,
    metrics,
  });
  const onChange = () => sender.wake();
  return {
    name: 'signed-deliveries',
    start() {
      bus.on('deliveryQueued', onChange);
      sender.start();
    },
    async stop() {
      bus.off('deliveryQueued', onChange);
      await sender.stop();
    },
  };
}
