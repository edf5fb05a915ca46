import type { Stage } from '../http/routing.js';

/**
 * Storage of agents and their pause-change log (docs/http.md §2.1, §2.2, §6). Every method is one
 * whole state change (or one read) run as one transaction inside the store: a pause change reads
 * the agent once, lets a pure, synchronous `decide` pick the new state, and writes the agent and
 * its event together; the conditions and the extra row a caller needs (the break timer's "only
 * if still on that break", the IVR's "store my reply with the change") are options of the call.
 * Engines: pause.store.sqlite.ts, pause.store.pg.ts.
 */

export type PauseSource = 'ivr' | 'webhook' | 'admin' | 'auto';

export interface AgentRecord {
  stage: Stage;
  /** E.164. */
  cli: string;
  name: string | null;
  accountId: string | null;
  language: string | null;
  pause: boolean;
  reason: string | null;
  /** When the current state began (ms); null until the first change. */
  since: number | null;
}

export interface PauseEventRecord {
  id: number;
  stage: Stage;
  /** ms since the epoch. */
  at: number;
  cli: string;
  pause: boolean;
  reason: string | null;
  source: PauseSource;
  callId: string | null;
  /** The state this change ended. */
  prevPause: boolean;
  prevReason: string | null;
  prevSince: number | null;
}

/** Profile fields; undefined = keep what is stored (a new agent gets null). */
export interface AgentProfile {
  name?: string | null;
  accountId?: string | null;
  language?: string | null;
}

export interface EventQuery {
  stage: Stage;
  cli?: string;
  /** Inclusive lower bound, ms. */
  from?: number;
  /** Exclusive upper bound, ms. */
  to?: number;
  limit: number;
}

/** The state a change leads to. */
export interface PauseTarget {
  pause: boolean;
  reason: string | null;
}

/**
 * A call's step (docs/http.md §4, §7.1, §10): its reply is stored under the step for platform
 * retries (table ivr_steps), and with it the call's record (table ivr_calls: when its id was first
 * seen, what its latest reply spoke).
 */
export interface CallStep {
  stage: Stage;
  callId: string;
  step: string;
  /**
   * docs/http.md §7.1: a call whose id was first seen before this time (ms) is refused: nothing
   * is written and the result is `expired`. A new call id is recorded as first seen at the
   * change's `at`.
   */
  refuseSeenBefore?: number;
}

/** What is stored for a call's step: the reply, and what it speaks (the call's last words). */
export interface KeptReply {
  reply: string;
  said?: string;
}

export interface PauseChange {
  /** When the change happens (the event's `at`, the agent's new `since`). */
  at: number;
  source: PauseSource;
  callId?: string | null;
  /**
   * Apply only if the agent as read inside the transaction passes (pure, synchronous): otherwise
   * nothing is written and the result is `skipped`.
   */
  onlyIf?: (agent: AgentRecord) => boolean;
  /**
   * Store a reply under this call's step atomically with the change, with the call's record, so
   * one IVR callback is one transaction. A call first seen before `refuseSeenBefore` is `expired`
   * (nothing written). If a reply is already stored under the step (a retry of the same step won),
   * nothing changes and the result is `replayed` with that reply; otherwise `reply` (pure,
   * synchronous) builds it from the outcome, it is stored, and returned.
   */
  alsoKeep?: CallStep & { reply: (outcome: PauseOutcome) => KeptReply };
  /** Queue the change notification of the event, if there is one, in the same transaction (src/delivery/outbox.store.ts). */
  notify?: boolean;
  /**
   * The agent as the caller just read it from this store (`getAgent`): an engine may start from
   * it instead of reading it again. It changes nothing else: the change applies only to the
   * agent as stored, and is decided again on that if it differs.
   */
  known?: AgentRecord;
}

export interface PauseOutcome {
  /** The agent after the change (or unchanged). */
  agent: AgentRecord;
  changed: boolean;
  /** The appended event when changed. */
  event: PauseEventRecord | null;
}

export type PauseChangeResult =
  | { kind: 'notFound' }
  | { kind: 'skipped'; agent: AgentRecord }
  | { kind: 'replayed'; reply: string }
  | { kind: 'expired' }
  | ({ kind: 'applied'; reply?: string } & PauseOutcome);

export interface PauseStore {
  getAgent(stage: Stage, cli: string): Promise<AgentRecord | undefined>;
  listAgents(stage: Stage): Promise<AgentRecord[]>;

  /** Create (available, no reason) or merge the given profile fields; returns the agent as stored. */
  saveAgent(stage: Stage, cli: string, profile: AgentProfile, now: number): Promise<{ agent: AgentRecord; created: boolean }>;

  /** Save many agents (each created or merged) in one transaction. */
  importAgents(stage: Stage, rows: { cli: string; profile: AgentProfile }[], now: number): Promise<{ imported: number; updated: number }>;

  /** false when there was no such agent. Its events stay (reports keep deleted agents' breaks). */
  deleteAgent(stage: Stage, cli: string): Promise<boolean>;

  /**
   * One pause change: read the agent, check `onlyIf`, let `decide` pick the new state (null = no
   * change: `changed: false`, no event), write the agent and its event, store `alsoKeep`'s reply,
   * all in one transaction. Changes for one agent serialise; `decide` sees the committed state.
   */
  applyPauseChange(
    stage: Stage,
    cli: string,
    decide: (agent: AgentRecord) => PauseTarget | null,
    change: PauseChange,
  ): Promise<PauseChangeResult>;

  /** Events oldest first (`at`, then `id`), at most `limit`. */
  events(q: EventQuery): Promise<PauseEventRecord[]>;
}
