import { describe, expect, it } from 'vitest';
import { CallingWindow } from '../../src/outbound/callingWindow.js';
import { backoffDelay } from '../../src/outbound/scheduler.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('CallingWindow', () => {
  const kolkata = new CallingWindow(9 * 60, 21 * 60, 'Asia/Kolkata');

  it('when the time is inside the window, then the next opening is now', () => {
    expect(iso(kolkata.nextOpening(at('2026-01-15T03:30:00.000Z')))).toBe('2026-01-15T03:30:00.000Z');
    expect(kolkata.isOpen(at('2026-01-15T15:29:59.999Z'))).toBe(true);
  });

  it('when the window has just closed, then the next opening is tomorrow at its start', () => {
    expect(kolkata.isOpen(at('2026-01-15T15:30:00.000Z'))).toBe(false);
    expect(iso(kolkata.nextOpening(at('2026-01-15T15:30:00.000Z')))).toBe('2026-01-16T03:30:00.000Z');
  });

  it('when it is early morning, then the opening is the same day', () => {
    expect(iso(kolkata.nextOpening(at('2026-01-15T01:17:42.123Z')))).toBe('2026-01-15T03:30:00.000Z');
  });

  it('when the zone changes to summer time overnight, then the opening is at local 09:00 after the change', () => {
    const london = new CallingWindow(9 * 60, 17 * 60, 'Europe/London');
    // Saturday 28 March 2026 20:00 GMT; clocks go forward on Sunday 29 March at 01:00 GMT.
    expect(iso(london.nextOpening(at('2026-03-28T20:00:00.000Z')))).toBe('2026-03-29T08:00:00.000Z');
    const newYork = new CallingWindow(9 * 60, 21 * 60, 'America/New_York');
    // Saturday 31 October 2026 22:00 EDT (02:00Z); clocks go back on Sunday 1 November.
    expect(iso(newYork.nextOpening(at('2026-11-01T02:00:00.000Z')))).toBe('2026-11-01T14:00:00.000Z');
  });

  it('when the window starts at a local time that summer time skips, then the first open minute is chosen', () => {
    const w = new CallingWindow(2 * 60 + 30, 4 * 60, 'America/New_York'); // 02:30 does not exist on 8 March 2026
    expect(iso(w.nextOpening(at('2026-03-08T05:00:00.000Z')))).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT
  });

  it('when the window wraps midnight, then both ends are honoured', () => {
    const night = new CallingWindow(21 * 60, 6 * 60, 'Asia/Kolkata');
    expect(night.isOpen(at('2026-01-15T20:00:00.000Z'))).toBe(true); // 01:30
    expect(night.isOpen(at('2026-01-15T06:00:00.000Z'))).toBe(false); // 11:30
    expect(iso(night.nextOpening(at('2026-01-15T06:00:00.000Z')))).toBe('2026-01-15T15:30:00.000Z');
  });
});

describe('backoffDelay', () => {
  it('when attempts go up, then the delay doubles within its jitter band and is capped', () => {
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(2, () => 0)).toBe(1000);
    expect(backoffDelay(4, () => 1)).toBe(8000);
    expect(backoffDelay(30, () => 1)).toBe(5 * 60_000);
    const draws = new Set(Array.from({ length: 20 }, () => backoffDelay(3)));
    expect(draws.size).toBeGreaterThan(1);
    for (const d of draws) expect(d).toBeGreaterThanOrEqual(2000), expect(d).toBeLessThanOrEqual(4000);
  });
});
