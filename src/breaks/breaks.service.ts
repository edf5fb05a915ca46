import { iso } from '../clock.js';
import type { AppDeps } from '../deps.js';
import type { Stage } from '../http/routing.js';
import type { ReasonDefinition } from '../ivr/ivr.catalog.js';
import { clip, isOverLimit, summariseBreaks, type AgentBreakSummary, type LimitFor } from './report.js';

/**
 * Break visibility over the pause state: the report of docs/http.md §6, the supervisor board's data,
 * and break limits. A reason's limit is its `maxMinutes` in ivr/menus.json; other reasons (and
 * breaks without one) use MAX_BREAK_MINUTES; 0 means no limit.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface BoardAgent {
  cli: string;
  name: string | null;
  pause: boolean;
  reason: string | null;
  since: string | null;
  /** Limit of the current break in minutes (0 = none). */
  limitMinutes: number;
  overLimit: boolean;
}

export interface BoardData {
  stage: Stage;
  now: string;
  /** Midnight of today in `timeZone` (CALLING_TZ); the timeline spans this day. */
  dayStart: string;
  timeZone: string;
  maxBreakMinutes: number;
  reasonLimits: Record<string, number>;
  agents: BoardAgent[];
  /** Today's breaks, clipped to the day so far; `end` null while open. */
  breaks: { cli: string; start: string; end: string | null; reason: string | null }[];
}

/** Midnight of the day `now` falls in, in an IANA time zone (whole-minute offsets). */
export function startOfDay(now: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const intoDay = ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000 + (now % 1000);
  return now - intoDay;
}

export function createBreaksService(deps: AppDeps, reasons: readonly ReasonDefinition[]) {
  const { clock, config } = deps;
  const store = deps.stores.breaks;
  const reasonLimits = new Map(reasons.filter((r) => r.maxMinutes !== undefined).map((r) => [r.id, r.maxMinutes!]));
  const limitFor: LimitFor = (reason) => (reason !== null && reasonLimits.get(reason)) || config.MAX_BREAK_MINUTES;

  return {
    limitFor,
    /** True when any break can run over a limit, so the timer has work to do. */
    hasLimits: config.MAX_BREAK_MINUTES > 0 || reasonLimits.size > 0,

    /** Agents on break now, in both stages. */
    paused: () => store.paused(),

    async report(stage: Stage, window: { from: number; to: number }, cli?: string): Promise<AgentBreakSummary[]> {
      const now = clock.now();
      const [agents, breaks] = await Promise.all([store.agents(stage, cli), store.breaks(stage, window.from, window.to, cli)]);
      return summariseBreaks(agents, breaks, { ...window, now }, limitFor);
    },

    async board(stage: Stage): Promise<BoardData> {
      const now = clock.now();
      const dayStart = startOfDay(now, config.CALLING_TZ);
      const w = { from: dayStart, to: dayStart + DAY_MS, now };
      const [agents, breaks] = await Promise.all([store.agents(stage), store.breaks(stage, w.from, w.to)]);
      return {
        stage,
        now: iso(now),
        dayStart: iso(dayStart),
        timeZone: config.CALLING_TZ,
        maxBreakMinutes: config.MAX_BREAK_MINUTES,
        reasonLimits: Object.fromEntries(reasonLimits),
        agents: agents.map((a) => ({
          cli: a.cli,
          name: a.name,
          pause: a.pause,
          reason: a.pause ? a.reason : null,
          since: a.since === null ? null : iso(a.since),
          limitMinutes: a.pause ? limitFor(a.reason) : 0,
          overLimit: a.pause && a.since !== null && isOverLimit(a.since, a.reason, now, limitFor),
        })),
        breaks: breaks.flatMap((b) => {
          const c = clip(b, w);
          return c ? [{ cli: b.cli, start: iso(c.start), end: b.end === null ? null : iso(c.end), reason: b.reason }] : [];
        }),
      };
    },
  };
}

export type BreaksService = ReturnType<typeof createBreaksService>;
