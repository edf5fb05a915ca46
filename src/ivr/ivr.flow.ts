import type { AgentRecord } from '../pause/pause.store.js';
import type { IvrCatalog, LanguagePack, PromptName } from './ivr.catalog.js';
import { hangup, say, type IvrVerb, type SayVerb } from './ivr.reply.js';

/**
 * The IVR as a small state machine (docs/http.md §4), free of HTTP and storage. The state of a call
 * travels in the action URLs the platform posts back: `step` (menu | reason), `miss` (wrong or
 * missing inputs in a row) and `seq` (the number of the step within the call, so every step of
 * one call has its own URL and a platform retry of a step can be recognised).
 *
 * - toggle mode: the first request flips the agent's state; the reply speaks it and hangs up.
 * - menu mode: speak the state, gather 1 (break → reason menu), 2 (available), 3 (repeat);
 *   in the reason menu digit N picks the N-th reason of menus.json. A wrong or missing digit
 *   re-prompts; the third in a row says goodbye and hangs up.
 */

export type Mode = 'toggle' | 'menu';
export type Step = 'start' | 'menu' | 'reason';

export interface CallState {
  step: Step;
  miss: number;
  seq: number;
}

export const MAX_MISSES = 3;
const GATHER_TIMEOUT_SECONDS = 5;

/** What to do for one request: answer without a change, or change the pause state then answer. */
export type Decision =
  | { kind: 'reply'; verbs: IvrVerb[] }
  | { kind: 'change'; pause: boolean | 'toggle'; reason?: string };

export interface FlowContext {
  catalog: IvrCatalog;
  pack: LanguagePack;
  /** URL of the next step (same path, same stage, same options). */
  actionUrl(next: CallState): string;
}

function prompt(pack: LanguagePack, name: PromptName, values: Record<string, string> = {}): SayVerb {
  return say(pack.prompts[name].replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? ''));
}

function reasonLabel(pack: LanguagePack, reason: string): string {
  return pack.reasons[reason] ?? reason;
}

function greeting(pack: LanguagePack, agent: AgentRecord): SayVerb[] {
  return agent.name ? [prompt(pack, 'hello', { name: agent.name })] : [];
}

function stateNow(pack: LanguagePack, agent: AgentRecord, changed: boolean): SayVerb {
  if (!agent.pause) return prompt(pack, changed ? 'nowAvailable' : 'isAvailable');
  if (agent.reason) return prompt(pack, changed ? 'nowOnBreakReason' : 'isOnBreakReason', { reason: reasonLabel(pack, agent.reason) });
  return prompt(pack, changed ? 'nowOnBreak' : 'isOnBreak');
}

function gather(ctx: FlowContext, next: CallState, prompts: SayVerb[]): IvrVerb[] {
  const action = ctx.actionUrl(next);
  // On timeout the platform moves on to the Redirect: the same step again, without digits.
  return [{ kind: 'gather', action, numDigits: 1, timeout: GATHER_TIMEOUT_SECONDS, prompts }, { kind: 'redirect', url: action }];
}

function menuGather(ctx: FlowContext, state: CallState, miss: number): IvrVerb[] {
  return gather(ctx, { step: 'menu', miss, seq: state.seq + 1 }, [prompt(ctx.pack, 'menu')]);
}

function reasonGather(ctx: FlowContext, state: CallState, miss: number): IvrVerb[] {
  const options = ctx.catalog.reasons.map((r) => prompt(ctx.pack, 'reasonOption', { reason: reasonLabel(ctx.pack, r.id), digit: r.digit }));
  return gather(ctx, { step: 'reason', miss, seq: state.seq + 1 }, [prompt(ctx.pack, 'reasonMenu'), ...options]);
}

/** A wrong or missing input: re-prompt, or after the third in a row say goodbye. */
function miss(ctx: FlowContext, state: CallState, digits: string | undefined, again: (miss: number) => IvrVerb[]): Decision {
  const why = prompt(ctx.pack, digits === undefined ? 'noInput' : 'invalidChoice');
  const misses = state.miss + 1;
  if (misses >= MAX_MISSES) return { kind: 'reply', verbs: [why, prompt(ctx.pack, 'goodbye'), hangup()] };
  return { kind: 'reply', verbs: [why, ...again(misses)] };
}

export function decide(ctx: FlowContext, mode: Mode, state: CallState, agent: AgentRecord, digits: string | undefined): Decision {
  switch (state.step) {
    case 'start':
      if (mode === 'toggle') return { kind: 'change', pause: 'toggle' };
      return { kind: 'reply', verbs: [...greeting(ctx.pack, agent), stateNow(ctx.pack, agent, false), ...menuGather(ctx, state, 0)] };
    case 'menu':
      if (digits === '1') return { kind: 'reply', verbs: reasonGather(ctx, state, 0) };
      if (digits === '2') return { kind: 'change', pause: false };
      if (digits === '3') return { kind: 'reply', verbs: [stateNow(ctx.pack, agent, false), ...menuGather(ctx, state, 0)] };
      return miss(ctx, state, digits, (m) => menuGather(ctx, state, m));
    case 'reason': {
      const reason = ctx.catalog.reasons.find((r) => r.digit === digits);
      if (reason) return { kind: 'change', pause: true, reason: reason.id };
      return miss(ctx, state, digits, (m) => reasonGather(ctx, state, m));
    }
  }
}

/** The reply after a change was applied (or found unnecessary). */
export function afterChange(ctx: FlowContext, state: CallState, agent: AgentRecord, changed: boolean): IvrVerb[] {
  const hello = state.step === 'start' ? greeting(ctx.pack, agent) : [];
  return [...hello, stateNow(ctx.pack, agent, changed), prompt(ctx.pack, 'goodbye'), hangup()];
}

export function spoken(pack: LanguagePack, name: PromptName): IvrVerb[] {
  return [prompt(pack, name), hangup()];
}

/** Call state from the query of a Gather action URL; anything unreadable starts over. */
export function readState(query: URLSearchParams): CallState {
  const step = query.get('step');
  const int = (name: string, max: number) => {
    const v = query.get(name);
    const n = v !== null && /^\d{1,4}$/.test(v) ? Number(v) : 0;
    return Math.min(n, max);
  };
  return {
    step: step === 'menu' || step === 'reason' ? step : 'start',
    miss: int('miss', MAX_MISSES),
    seq: int('seq', 9999),
  };
}
