import type { AppDeps } from '../deps.js';
import type { Feature } from '../webhook/registry.js';
import { CallingWindow } from './callingWindow.js';
import { clientsRoutes } from './clients.routes.js';
import { RecordingDialer } from './dialer.js';
import { prodDialer } from './dialers.js';
import { outboundMethods } from './outbound.methods.js';
import { OutboundService } from './outbound.service.js';
import { OutboundScheduler, type SchedulerOptions } from './scheduler.js';

const HTTP_MAX_IN_FLIGHT = 32;
const RECORDING_MAX_IN_FLIGHT = 1000;

/**
 * Outbound calls: clients (admin), createOutbound / getOutboundStatus / cancelOutbound, and the
 * durable scheduler that hands due contacts to the dialer. `test` always uses the recording dialer.
 */
export function createOutboundFeature(deps: AppDeps, opts: SchedulerOptions = {}): Feature & { scheduler: OutboundScheduler } {
  const { config, clock, logger } = deps;
  const store = deps.stores.outbound;
  const window = CallingWindow.fromConfig(config);
  const recording = new RecordingDialer(logger);
  const prod = config.DIALER === 'record' ? recording : prodDialer(config, logger);
  // A real platform gets a bounded number of concurrent calls; the recording dialer drains fast.
  const maxInFlight = config.DIALER === 'record' ? RECORDING_MAX_IN_FLIGHT : HTTP_MAX_IN_FLIGHT;
  const scheduler = new OutboundScheduler(deps, store, { prod, test: recording }, window, { maxInFlight, ...opts });
  const service = new OutboundService(deps, store, window, () => scheduler.wake());
  return {
    name: 'outbound',
    scheduler,
    methods: outboundMethods(service, config),
    routes: (router) => clientsRoutes(router, store, clock),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
}
