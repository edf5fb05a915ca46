import { describe, expect, it } from 'vitest';
import { configFrom } from '../../src/config.js';
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

describe('CallingWindow: India defaults and holidays (docs/http.md §9)', () => {
  it('when CALLING_WINDOW is unset, then the window is 09:00-21:00 Asia/Kolkata; off turns it off', () => {
    const w = CallingWindow.fromConfig(configFrom())!;
    expect(w.isOpen(at('2026-01-15T03:29:59.000Z'))).toBe(false); // 08:59:59 IST
    expect(w.isOpen(at('2026-01-15T03:30:00.000Z'))).toBe(true); // 09:00 IST
    expect(w.isOpen(at('2026-01-15T15:30:00.000Z'))).toBe(false); // 21:00 IST
    expect(CallingWindow.fromConfig(configFrom({ CALLING_WINDOW: 'off' }))).toBeUndefined();
    expect(CallingWindow.fromConfig(configFrom({ CALLING_WINDOW: 'OFF' }))).toBeUndefined();
  });

  it('when a day is a holiday, then it is closed all day and the next opening is the first working day', () => {
    const w = new CallingWindow(9 * 60, 21 * 60, 'Asia/Kolkata', ['2026-01-26', '2026-01-27']);
    expect(w.isOpen(at('2026-01-26T06:00:00.000Z'))).toBe(false); // Republic Day, 11:30 IST
    // Sunday 25 January 20:59 IST is still open; at 21:00 the next opening skips both holidays.
    expect(w.isOpen(at('2026-01-25T15:29:00.000Z'))).toBe(true);
    expect(iso(w.nextOpening(at('2026-01-25T15:30:00.000Z')))).toBe('2026-01-28T03:30:00.000Z');
    expect(iso(w.nextOpening(at('2026-01-26T00:00:00.000Z')))).toBe('2026-01-28T03:30:00.000Z');
  });

  it('when only holidays are set with the window off, then holidays are still closed and other days open all day', () => {
    const w = CallingWindow.fromConfig(configFrom({ CALLING_WINDOW: 'off', CALLING_HOLIDAYS: '2026-08-15' }))!;
    expect(w.isOpen(at('2026-08-14T17:00:00.000Z'))).toBe(true); // 14 August 22:30 IST
    expect(w.isOpen(at('2026-08-14T20:00:00.000Z'))).toBe(false); // 15 August 01:30 IST
    expect(iso(w.nextOpening(at('2026-08-14T19:00:00.000Z')))).toBe('2026-08-15T18:30:00.000Z');
  });

  it('when CALLING_HOLIDAYS has a bad date, then the configuration is refused naming it', () => {
    expect(() => configFrom({ CALLING_HOLIDAYS: '2026-02-30' })).toThrow(/CALLING_HOLIDAYS "2026-02-30" is not a YYYY-MM-DD date/);
    expect(() => configFrom({ CALLING_WINDOW: 'sometimes' })).toThrow(/CALLING_WINDOW must look like 09:00-21:00 or be off/);
  });
});

describe('DIALER settings (docs/http.md §9)', () => {
  it('when DIALER names a platform without its credentials, then the configuration names what is missing', () => {
    expect(() => configFrom({ DIALER: 'twilio' })).toThrow('DIALER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL');
    expect(() => configFrom({ DIALER: 'plivo', PLIVO_AUTH_ID: 'MA1', PUBLIC_BASE_URL: 'https://c.example.com' })).toThrow('DIALER=plivo needs PLIVO_AUTH_TOKEN');
    expect(() => configFrom({ DIALER: 'exotel' })).toThrow('EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY, EXOTEL_API_TOKEN, PUBLIC_BASE_URL');
    expect(() => configFrom({ DIALER: 'http' })).toThrow('DIALER=http needs DIALER_URL');
    expect(() => configFrom({ TWILIO_ACCOUNT_SID: 'XX123' })).toThrow(/TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits/);
  });

  it('when DIALER is unset, then it is http with DIALER_URL and record without', () => {
    expect(configFrom().DIALER).toBe('record');
    expect(configFrom({ DIALER_URL: 'https://dialer.example.com/dial' }).DIALER).toBe('http');
    expect(configFrom({ DIALER: 'record', DIALER_URL: 'https://dialer.example.com/dial' }).DIALER).toBe('record');
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
