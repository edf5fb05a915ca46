/** Time as milliseconds since the epoch; injected so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The last whole second `iso` formatted, and its text up to the milliseconds ("2026-12-01T20:25:09."). */
let cachedSecond = Number.NaN;
let cachedPrefix = '';
/** Years 0000–9999: the range whose text is the fixed 24-character form; outside it Date's own text (±YYYYYY). */
const FIXED_FORM_MIN = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const FIXED_FORM_MAX = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/**
 * `new Date(ms).toISOString()`, the same text for every input (test/foundation/clock.test.ts), with
 * the text up to the seconds kept from the last call. V8's toISOString costs about 0.9 µs on this
 * machine and most replies and every request line format one or two times in the same second, so
 * a request then pays only the milliseconds (docs/http.md §8.7).
 */
export function iso(ms: number): string {
  if (!(ms >= FIXED_FORM_MIN && ms <= FIXED_FORM_MAX)) return new Date(ms).toISOString();
  const whole = Math.trunc(ms); // as Date does (TimeClip), so -0.5 is 0, not -1
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const milli = whole - second * 1000;
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
