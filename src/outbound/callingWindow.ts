import type { Config } from '../config.js';

/**
 * The daily calling window of the `prod` stage (`CALLING_WINDOW` in `CALLING_TZ`, default
 * 09:00-21:00 Asia/Kolkata; docs/http.md §9) and the `CALLING_HOLIDAYS`, closed all day. The window
 * may wrap midnight (`21:00-09:00`). Local time comes from Intl, so DST and half-hour zones are
 * right without a time-zone table of our own.
 */
export class CallingWindow {
  private readonly parts: Intl.DateTimeFormat;
  private readonly holidays: ReadonlySet<string>;

  constructor(
    private readonly startMinute: number,
    private readonly endMinute: number,
    timeZone: string,
    holidays: readonly string[] = [],
  ) {
    this.parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    this.holidays = new Set(holidays);
  }

  /** undefined when `CALLING_WINDOW=off` and no holidays: calls may go out at any time. */
  static fromConfig(config: Config): CallingWindow | undefined {
    const w = config.CALLING_WINDOW ?? { startMinute: 0, endMinute: 1440 };
    if (!config.CALLING_WINDOW && (config.CALLING_HOLIDAYS ?? []).length === 0) return undefined;
    return new CallingWindow(w.startMinute, w.endMinute, config.CALLING_TZ, config.CALLING_HOLIDAYS ?? []);
  }

  isOpen(ms: number): boolean {
    const l = this.local(ms);
    return !this.holidays.has(l.date) && this.openAtMinute(l.minute);
  }

  /** The first instant at or after `ms` inside the window and not on a holiday. */
  nextOpening(ms: number): number {
    let t = ms;
    // Bounded: a year of consecutive holidays at most.
    for (let i = 0; i < 370; i++) {
      t = this.nextWindowOpening(t);
      if (!this.holidays.has(this.local(t).date)) return t;
      t = this.nextLocalDay(t);
    }
    return t;
  }

  /** The first instant of the local day after the one `ms` falls in. */
  private nextLocalDay(ms: number): number {
    const { date, minute, second } = this.local(ms);
    let t = ms - (ms % 1000) - second * 1000 + (1440 - minute) * 60_000;
    // DST may put that an hour off: walk to the first minute of the next date.
    for (let i = 0; i < 120 && this.local(t).date === date; i++) t += 60_000;
    while (this.local(t - 60_000).date !== date) t -= 60_000;
    return t;
  }

  private nextWindowOpening(ms: number): number {
    const { minute, second } = this.local(ms);
    if (this.openAtMinute(minute)) return ms;
    const minutesAhead = (this.startMinute - minute + 1440) % 1440;
    let t = ms - (ms % 1000) - second * 1000 + minutesAhead * 60_000;
    // A DST change between now and the opening moves local time by up to an hour; walk to the
    // first open minute (bounded: a window is open at least one minute a day).
    for (let i = 0; i < 1440 && !this.openAtMinute(this.local(t).minute); i++) t += 60_000;
    // Walk back over minutes that are already open (a DST change that moved the opening earlier).
    while (t - 60_000 >= ms && this.openAtMinute(this.local(t - 60_000).minute)) t -= 60_000;
    return Math.max(t, ms);
  }

  private openAtMinute(m: number): boolean {
    if (this.endMinute - this.startMinute >= 1440) return true;
    return this.startMinute < this.endMinute
      ? m >= this.startMinute && m < this.endMinute
      : m >= this.startMinute || m < this.endMinute;
  }

  private local(ms: number): { date: string; minute: number; second: number } {
    let hour = 0;
    let minute = 0;
    let second = 0;
    let y = '';
    let mo = '';
    let d = '';
    for (const p of this.parts.formatToParts(ms)) {
      if (p.type === 'hour') hour = Number(p.value);
      else if (p.type === 'minute') minute = Number(p.value);
      else if (p.type === 'second') second = Number(p.value);
      else if (p.type === 'year') y = p.value;
      else if (p.type === 'month') mo = p.value;
      else if (p.type === 'day') d = p.value;
    }
    return { date: `${y}-${mo}-${d}`, minute: hour * 60 + minute, second };
  }
}
