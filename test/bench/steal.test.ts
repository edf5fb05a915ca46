import { describe, expect, it } from 'vitest';
import { parseCpuTimes, watchSteal } from '../../bench/steal.js';

// proc(5), /proc/stat: "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in USER_HZ ticks.
describe('bench steal', () => {
  it('reads the stolen and the total ticks of the cpu line, guest time not counted twice', () => {
    const text = 'cpu  100 5 50 800 20 3 2 20 7 0\ncpu0 50 2 25 400 10 1 1 10 3 0\nintr 12345\n';
    expect(parseCpuTimes(text)).toEqual({ steal: 20, total: 1000 });
    expect(parseCpuTimes('intr 1\n')).toBeUndefined();
    expect(parseCpuTimes('cpu  1 2 3\n')).toBeUndefined();
  });

  it('on this machine, a window gives shares between 0 and 100 %, the whole window\'s no higher than its worst sample', async () => {
    const w = watchSteal(20);
    await new Promise((r) => setTimeout(r, 120));
    const s = w.stop();
    if (process.platform !== 'linux') return expect(s).toBeUndefined();
    expect(s!.stealPct).toBeGreaterThanOrEqual(0);
    // The samples split the window, so its share is their weighted mean: never above the worst one.
    expect(s!.worstPct).toBeGreaterThanOrEqual(s!.stealPct - 1e-9);
    expect(s!.worstPct).toBeLessThanOrEqual(100);
  });
});
