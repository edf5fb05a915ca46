import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so tests can build many apps without global clashes. */
export function createMetrics() {
  const registry = new Registry();
  // The event-loop delay is sampled every 100 ms, not prom-client's default 10 ms: the sampling
  // timer was the most frequent wake-up of an idle service (100 a second; its main thread used
  // 290 → 170 ms of CPU in 20 idle s with this). A stall still delays the pending sample, so
  // nodejs_eventloop_lag_max_seconds still sees every one (test/foundation/metrics.test.ts).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    pauseChanges: new Counter({
      name: 'pause_changes_total',
      help: 'Agent pause state changes by stage, source and new state',
      labelNames: ['stage', 'source', 'pause'] as const,
      registers: [registry],
    }),
    outboundScheduled: new Counter({
      name: 'outbound_scheduled_total',
      help: 'Outbound contacts scheduled by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    outboundDispatches: new Counter({
      name: 'outbound_dispatches_total',
      help: 'Outbound contact dispatch outcomes by stage and result',
      labelNames: ['stage', 'result'] as const,
      registers: [registry],
    }),
    eventsWebhookDeliveries: new Counter({
      name: 'events_webhook_deliveries_total',
      help: 'Signed deliveries from the outbox (change notifications to EVENTS_WEBHOOK_URL, statusCallbackUrl) by result (delivered, retry, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    outboundDispatchLag: new Histogram({
      name: 'outbound_dispatch_lag_seconds',
      help: 'Seconds between a contact falling due and its dispatch',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    userPreferenceUpdates: new Counter({
      name: 'user_preference_updates_total',
      help: 'Successful updateUserPreferences calls by stage',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    shortUrlCreations: new Counter({
      name: 'shorturl_creations_total',
      help: 'Short-URL creation requests answered with a link, by result (created, existing)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    shortUrlRedirects: new Counter({
      name: 'shorturl_redirects_total',
      help: 'Short-link lookups by result (redirect, not_found, gone)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The child of a labelled metric for each label-value combination, bound once and kept: a
 * per-request `observe({…})`/`inc({…})` checks and converts its labels object every time. Children
 * are kept in one map per label, so finding one builds no key. At most `max` children are kept
 * (label values here come from code: methods, route patterns, statuses, stages), past that each
 * combination is looked up per call.
 */
export function boundChildren<C>(metric: { labels(...values: string[]): C }, max = 1000): (...values: string[]) => C {
  type Level = Map<string, Level | C>;
  const root: Level = new Map();
  let kept = 0;
  return (...values: string[]): C => {
    let level = root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Level | undefined;
      if (next === undefined) level.set(values[i]!, (next = new Map()));
      level = next;
    }
    let child = level.get(values[last]!) as C | undefined;
    if (child === undefined) {
      child = metric.labels(...values);
      if (kept < max) {
        level.set(values[last]!, child);
        kept++;
      }
    }
    return child;
  };
}
