import { describe, expect, it } from 'vitest';
import { normalizePhone, PHONE_CACHE_SIZE, phoneCacheSize } from '../../src/phone.js';

/** docs/http.md §1.2: numbers to E.164, with known numbers normalised once (a bounded cache). */
describe('normalizePhone', () => {
  it('when a number is written in any allowed format, then the same E.164 comes back, first time and from the cache', () => {
    for (let round = 0; round < 2; round++) {
      expect(normalizePhone('9879964805', 'IN')).toBe('+919879964805');
      expect(normalizePhone(' +91 98799-64805 ', 'IN')).toBe('+919879964805');
      expect(normalizePhone('(987) 996.4805', 'IN')).toBe('+919879964805');
      expect(normalizePhone('+1 415 555 0100', 'IN')).toBe('+14155550100');
      expect(normalizePhone('2025550123', 'US')).toBe('+12025550123');
    }
  });

  it('when the same digits are read in another region, then the region decides (the cache is per region)', () => {
    expect(normalizePhone('9879964805', 'IN')).toBe('+919879964805');
    expect(normalizePhone('9879964805', 'US')).toBeUndefined(); // 987 is no US area code
    expect(normalizePhone('9879964805', 'IN')).toBe('+919879964805');
  });

  it('when the input is not a number, then undefined, also when asked again', () => {
    for (const bad of ['sip:alice@example.com', 'client:alice', 'anonymous', '12', '', '+91 98799 6480x', '1'.repeat(30)]) {
      expect(normalizePhone(bad, 'IN')).toBeUndefined();
      expect(normalizePhone(bad, 'IN')).toBeUndefined();
    }
  });

  it('when a valid number is padded past the cache key limit, then it is still read', () => {
    expect(normalizePhone(`${' '.repeat(40)}9879964805${' '.repeat(20)}`, 'IN')).toBe('+919879964805');
  });

  it('when more distinct numbers are seen than the cache holds, then it stays at its bound and recent numbers still resolve', () => {
    for (let i = 0; i < PHONE_CACHE_SIZE + 500; i++) normalizePhone(`98${String(i).padStart(8, '0')}`, 'IN');
    expect(phoneCacheSize()).toBe(PHONE_CACHE_SIZE);
    expect(normalizePhone('9879964805', 'IN')).toBe('+919879964805');
    expect(phoneCacheSize()).toBe(PHONE_CACHE_SIZE);
  });
});
