import type { Config } from '../config.js';

/**
 * The optional daily calling window (`CALLING_WINDOW` in `CALLING_TZ`). The window may wrap
 * midnight (`21:00-09:00`). Local time comes from Intl, so DST and half-hour zones are right
 * without a time-zone table of our own.
 */
export class CallingWindow {
  private readonly parts: Intl.DateTimeFormat;

  constructor(
    private readonly startMinute: number,
    private readonly endMinute: number,
    timeZone: string,
  ) {
    this.parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** undefined when no window is set: calls may go out at any time. */
  static fromConfig(config: Config): CallingWindow | undefined {
    const w = config.CALLING_WINDOW;
    return w ? new CallingWindow(w.startMinute, w.endMinute, config.CALLING_TZ) : undefined;
  }

  isOpen(ms: number): boolean {
    return this.openAtMinute(this.local(ms).minute);
  }

  /** The first instant at or after `ms` inside the window. */
  nextOpening(ms: number): number {
    const { minute, second } = this.local(ms);
    if (this.openAtMinute(minute)) return ms;
    const minutesAhead = (this.startMinute - minute + 1440) % 1440;
    let t = ms - (ms % 1000) - second * 1000 + minutesAhead * 60_000;
    // A DST change between now and the opening moves local time by up to an hour; walk to the
    // first open minute (bounded: a window is open at least one minute a day).
    for (let i = 0; i < 1440 && !this.isOpen(t); i++) t += 60_000;
    // Walk back over minutes that are already open (a DST change that moved the opening earlier).
    while (t - 60_000 >= ms && this.isOpen(t - 60_000)) t -= 60_000;
    return Math.max(t, ms);
  }

  private openAtMinute(m: number): boolean {
    return this.startMinute < this.endMinute
      ? m >= this.startMinute && m < this.endMinute
      : m >= this.startMinute || m < this.endMinute;
  }

  private local(ms: number): { minute: number; second: number } {
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const p of this.parts.formatToParts(ms)) {
      if (p.type === 'hour') hour = Number(p.value);
      else if (p.type === 'minute') minute = Number(p.value);
      else if (p.type === 'second') second = Number(p.value);
    }
    return { minute: hour * 60 + minute, second };
  }
}
