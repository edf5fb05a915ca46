/**
 * Break arithmetic (docs/http.md §6, reports): pure functions over break intervals, so the rules can be
 * tested on hand-built sequences and shared by the report and the board.
 *
 * A break runs from the change that paused the agent (or changed the reason while paused) to the
 * next change; a reason change therefore closes one break and opens the next. A break still open
 * runs to `now`. Each break is clipped to the window [from, min(to, now)); one that does not
 * overlap it is not counted. Seconds per reason are rounded to whole seconds after summing
 * milliseconds; the total is the sum of those, so a report's columns add up.
 */

import { iso } from '../clock.js';

export interface BreakInterval {
  cli: string;
  /** ms since the epoch. */
  start: number;
  /** ms; null while the break is open. */
  end: number | null;
  reason: string | null;
}

export interface ReportAgent {
  cli: string;
  name: string | null;
  pause: boolean;
  reason: string | null;
  /** Start of the current state (ms), null before the first change. */
  since: number | null;
}

/** Key under which breaks without a reason are counted in `byReason`. */
export const NO_REASON = 'none';

/** The break limit in minutes for a reason (per-reason limit, else MAX_BREAK_MINUTES); 0 = none. */
export type LimitFor = (reason: string | null) => number;

export interface AgentBreakSummary {
  cli: string;
  name: string | null;
  breaks: number;
  totalBreakSeconds: number;
  longestBreakSeconds: number;
  byReason: Record<string, number>;
  onBreakNow: boolean;
  /** ISO start of the open break, else null. */
  since: string | null;
  /** On break now for longer than the limit of its reason. */
  overLimit: boolean;
  /** Breaks in the window whose whole length (not only the clipped part) exceeded their limit. */
  breaksOverLimit: number;
}

export interface ReportWindow {
  from: number;
  to: number;
  now: number;
}

const seconds = (ms: number) => Math.round(ms / 1000);

/** Whether an agent on break since `since` with `reason` is past its limit at `now`. */
export function isOverLimit(since: number, reason: string | null, now: number, limitFor: LimitFor): boolean {
  const limit = limitFor(reason);
  return limit > 0 && now - since > limit * 60_000;
}

/** Clip a break to the window; undefined when they do not overlap. */
export function clip(b: BreakInterval, w: ReportWindow): { start: number; end: number } | undefined {
  const end = Math.min(b.end ?? w.now, w.to, w.now);
  const start = Math.max(b.start, w.from);
  return end > start ? { start, end } : undefined;
}

export function summariseBreaks(
  agents: readonly ReportAgent[],
  breaks: readonly BreakInterval[],
  w: ReportWindow,
  limitFor: LimitFor,
): AgentBreakSummary[] {
  const byCli = new Map<string, { count: number; totalMs: number; longestMs: number; byReason: Map<string, number>; over: number }>();
  for (const b of breaks) {
    const c = clip(b, w);
    if (!c) continue;
    let acc = byCli.get(b.cli);
    if (!acc) byCli.set(b.cli, (acc = { count: 0, totalMs: 0, longestMs: 0, byReason: new Map(), over: 0 }));
    const ms = c.end - c.start;
    acc.count += 1;
    acc.totalMs += ms;
    acc.longestMs = Math.max(acc.longestMs, ms);
    const key = b.reason ?? NO_REASON;
    acc.byReason.set(key, (acc.byReason.get(key) ?? 0) + ms);
    if (isOverLimit(b.start, b.reason, b.end ?? w.now, limitFor)) acc.over += 1;
  }
  return agents.map((a) => {
    const acc = byCli.get(a.cli);
    const onBreakNow = a.pause;
    const byReason = Object.fromEntries([...(acc?.byReason ?? [])].sort(([x], [y]) => x.localeCompare(y)).map(([k, ms]) => [k, seconds(ms)]));
    return {
      cli: a.cli,
      name: a.name,
      breaks: acc?.count ?? 0,
      // The sum of the rounded parts, so the columns of a report always add up.
      totalBreakSeconds: Object.values(byReason).reduce((x, y) => x + y, 0),
      longestBreakSeconds: seconds(acc?.longestMs ?? 0),
      byReason,
      onBreakNow,
      since: onBreakNow && a.since !== null ? iso(a.since) : null,
      overLimit: onBreakNow && a.since !== null && isOverLimit(a.since, a.reason, w.now, limitFor),
      breaksOverLimit: acc?.over ?? 0,
    };
  });
}
