import type { Stage } from '../http/routing.js';
import type { AgentRecord, PauseEventRecord, PauseSource, PauseTarget } from './pause.store.js';

/**
 * The rows of the pause tables (`agents`, `pause_events`; migration 010 and migrations-pg 010) as
 * both engines return them, and their mapping to records. Shared by the pause stores and by the
 * stores that read a pause event with something else (the notification outbox). The only
 * difference between the engines is the boolean: SQLite returns 0/1, PostgreSQL true/false.
 */

/** A boolean column: 0/1 on SQLite, true/false on PostgreSQL. */
export type Flag = number | boolean;

const isSet = (v: Flag): boolean => v === true || v === 1;

export interface AgentRow {
  stage: Stage;
  cli: string;
  name: string | null;
  account_id: string | null;
  language: string | null;
  pause: Flag;
  reason: string | null;
  since: number | null;
}

export interface PauseEventRow {
  id: number;
  stage: Stage;
  at: number;
  cli: string;
  pause: Flag;
  reason: string | null;
  source: PauseSource;
  call_id: string | null;
  prev_pause: Flag;
  prev_reason: string | null;
  prev_since: number | null;
}

export const AGENT_COLUMNS = 'stage, cli, name, account_id, language, pause, reason, since';

const EVENT_COLUMN_NAMES = ['id', 'stage', 'at', 'cli', 'pause', 'reason', 'source', 'call_id', 'prev_pause', 'prev_reason', 'prev_since'] as const;

/** The columns of a `PauseEventRow`, qualified by `alias` when the query joins (`e.id, e.stage, …`). */
export function pauseEventColumns(alias?: string): string {
  return alias ? EVENT_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(', ') : EVENT_COLUMN_NAMES.join(', ');
}

export const toAgent = (r: AgentRow): AgentRecord => ({
  stage: r.stage,
  cli: r.cli,
  name: r.name,
  accountId: r.account_id,
  language: r.language,
  pause: isSet(r.pause),
  reason: r.reason,
  since: r.since,
});

export const toPauseEvent = (r: PauseEventRow): PauseEventRecord => ({
  id: r.id,
  stage: r.stage,
  at: r.at,
  cli: r.cli,
  pause: isSet(r.pause),
  reason: r.reason,
  source: r.source,
  callId: r.call_id,
  prevPause: isSet(r.prev_pause),
  prevReason: r.prev_reason,
  prevSince: r.prev_since,
});

/** The event a pause change wrote: `next` at `at`, ending the state `prev` (both engines' stores). */
export function changedEvent(
  id: number,
  stage: Stage,
  cli: string,
  at: number,
  next: PauseTarget,
  source: PauseSource,
  callId: string | null,
  prev: AgentRecord,
): PauseEventRecord {
  return { id, stage, at, cli, pause: next.pause, reason: next.reason, source, callId, prevPause: prev.pause, prevReason: prev.reason, prevSince: prev.since };
}
