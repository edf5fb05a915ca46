import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { iso } from '../../src/clock.js';

// iso keeps the text up to the seconds of the last call (src/clock.ts); it must give
// Date#toISOString's text for any input, in any order of calls.
describe('iso', () => {
  it('is Date#toISOString for any millisecond, whole or not, in any order', () => {
    const ms = fc.oneof(
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      fc.double({ min: -1e13, max: 4e12, noNaN: true }),
      // Runs of calls inside one second and across its edges, where the kept prefix is reused or replaced.
      fc.integer({ min: 1_700_000_000_000, max: 1_700_000_003_000 }),
    );
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 50 }), (values) => {
        for (const v of values) expect(iso(v)).toBe(new Date(v).toISOString());
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps Date\'s own text outside years 0000–9999 and its error for an invalid time', () => {
    for (const v of [-62_167_219_200_001, 253_402_300_800_000, 8.64e15, -8.64e15, -0, 0.9999, 999.5, 1000]) {
      expect(iso(v)).toBe(new Date(v).toISOString());
    }
    expect(() => iso(Number.NaN)).toThrow(RangeError);
    expect(() => iso(8.64e15 + 1)).toThrow(RangeError);
  });
});
