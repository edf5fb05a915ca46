import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';

const lagMax = (text: string) => Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);

describe('metrics: event-loop lag', () => {
  it('sampled every 100 ms, a stall of the loop still shows in nodejs_eventloop_lag_max_seconds', async () => {
    const m = createMetrics();
    // A collection resets the monitor's histogram (prom-client's eventLoopLag), and the first
    // sample after a reset records nothing: a stall is measured from a sample taken after it.
    await new Promise((r) => setTimeout(r, 250));
    await m.registry.metrics();
    await new Promise((r) => setTimeout(r, 250));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      /* the stall */
    }
    await new Promise((r) => setTimeout(r, 250));
    expect(lagMax(await m.registry.metrics())).toBeGreaterThan(0.25);

    // Without a stall a window shows only the sampling interval itself.
    await new Promise((r) => setTimeout(r, 550));
    expect(lagMax(await m.registry.metrics())).toBeLessThan(0.2);
  });
});
