import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { CallingWindow } from './callingWindow.js';
import { clientsRoutes } from './clients.routes.js';
import { RecordingDialer } from './dialer.js';
import { prodDialer } from './dialers.js';
import { outboundMethods } from './outbound.methods.js';
import { OutboundService } from './outbound.service.js';
import { OutboundScheduler, type SchedulerOptions } from './scheduler.js';
import { CallPacer } from './pacing.js';
import { statusRoutes } from './status.routes.js';
import { suppressionRoutes } from './suppression.routes.js';

/**
 * Dial requests to a platform in progress at once (calls are bounded per client by maxConcurrent
 * and callsPerSecond, docs/http.md §9.5): at 500 starts a second and 100 ms a request, 64 were the
 * limit (issue 13's pacing benchmark).
 */
const HTTP_MAX_IN_FLIGHT = 256;
const RECORDING_MAX_IN_FLIGHT = 1000;
/**
 * Ready clients claimed for in one transaction on PostgreSQL (docs/http.md §9.5): a pass over 100
 * clients in groups of 10 was ten transactions one after another, and a client was claimed for
 * again only after the whole pass, too late for 5 starts a second once a round trip took 20 ms.
 */
const PG_CLIENTS_PER_CLAIM = 100;

/**
 * Outbound calls: clients and their suppression lists (admin), createOutbound /
 * getOutboundStatus / cancelOutbound / pauseOutbound / resumeOutbound, the platforms' status
 * callbacks, and the durable scheduler that hands due contacts to the dialer (docs/http.md §2.3,
 * §2.4, §9). `test` always uses the recording dialer.
 */
export function createOutboundFeature(deps: AppDeps, opts: SchedulerOptions = {}): Feature & { scheduler: OutboundScheduler } {
  const { config, clock, logger, bus } = deps;
  const store = deps.stores.outbound;
  const window = CallingWindow.fromConfig(config);
  const recording = new RecordingDialer(logger);
  const prod = config.DIALER === 'record' ? recording : prodDialer(config, logger);
  // A real platform gets a bounded number of concurrent calls; the recording dialer drains fast.
  const maxInFlight = config.DIALER === 'record' ? RECORDING_MAX_IN_FLIGHT : HTTP_MAX_IN_FLIGHT;
  // statusCallbackUrl deliveries are written by the store with the changes they report; this
  // wakes the outbox's sender (src/delivery/delivery.feature.ts) when one may have been (docs/http.md §9.6).
  const queued = config.EVENTS_WEBHOOK_SECRET ? () => bus.emit('deliveryQueued') : undefined;
  const scheduler = new OutboundScheduler(deps, store, { prod, test: recording }, window, {
    maxInFlight,
    onEnded: queued,
    pacer: new CallPacer(deps.stores.limiters),
    ...(deps.stores.engine === 'postgres' ? { clientsPerClaim: PG_CLIENTS_PER_CLAIM } : {}),
    ...opts,
  }, async (stage, key, outcome) => {
    await service.recordOutcome(stage, key, outcome, null);
  });
  const service = new OutboundService(deps, store, window, () => scheduler.wake(), queued);
  return {
    name: 'outbound',
    scheduler,
    methods: outboundMethods(service, config),
    routes: (router) => {
      // The suppression routes first: `/clients/:clientID` must not take their paths.
      suppressionRoutes(router, store, clock, config);
      clientsRoutes(router, store, clock, config);
      statusRoutes(router, service, config);
    },
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
}
