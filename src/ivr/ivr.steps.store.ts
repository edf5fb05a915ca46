import type { CallStep, KeptReply } from '../pause/pause.store.js';

/**
 * Replies already given per call id + step (table ivr_steps), so a platform retry of the same
 * step gets the same reply and changes nothing twice (docs/http.md §4), and per call id when it
 * was first seen and what it last heard (table ivr_calls, docs/http.md §7.1, §10). A reply that
 * goes with a pause change is stored by the pause store in the change's own transaction
 * (`PauseChange.alsoKeep`); this store keeps the others and prunes old ones.
 * Engines: ivr.steps.store.sqlite.ts, ivr.steps.store.pg.ts.
 */
export type KeepResult = { kind: 'expired' } | { kind: 'kept' | 'replayed'; reply: string };

export interface IvrStepsStore {
  /**
   * One transaction: a call first seen before `refuseSeenBefore` is `expired` (nothing written);
   * a reply already stored under the step is `replayed` (the first one wins, nothing written);
   * else the reply is stored, the call recorded (first seen `now` when new) with `said` as its
   * last words, and the result is `kept`.
   */
  keep(step: CallStep, kept: KeptReply, now: number): Promise<KeepResult>;
  /** What the call's latest reply spoke, if a reply was given. */
  lastSaid(stage: CallStep['stage'], callId: string): Promise<string | undefined>;
  /** Delete replies stored before `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** Forget call ids first seen before `before`; returns how many. */
  pruneCalls(before: number): Promise<number>;
}
