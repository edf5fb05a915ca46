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
  /** Gathers also listen for speech (docs/http.md §10). */
  speech: boolean;
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

/** The words a caller may say at a step, as recognition hints. */
function hintsFor(pack: LanguagePack, step: 'menu' | 'reason'): string[] {
  const reasons = Object.values(pack.speech.reasons).flat();
  return step === 'menu' ? [...pack.speech.break, ...pack.speech.available, ...pack.speech.repeat, ...reasons] : reasons;
}

function gather(ctx: FlowContext, next: CallState & { step: 'menu' | 'reason' }, prompts: SayVerb[]): IvrVerb[] {
  const action = ctx.actionUrl(next);
  const speechHints = ctx.speech ? [...new Set(hintsFor(ctx.pack, next.step))] : undefined;
  // On timeout the platform moves on to the Redirect: the same step again, without input.
  return [
    { kind: 'gather', action, numDigits: 1, timeout: GATHER_TIMEOUT_SECONDS, prompts, ...(speechHints ? { speechHints } : {}) },
    { kind: 'redirect', url: action },
  ];
}

/** Lowercase words separated by single spaces, punctuation and symbols dropped, padded with spaces. */
function words(s: string): string {
  return ` ${s.normalize('NFC').toLocaleLowerCase().replace(/[\p{P}\p{S}]+/gu, ' ').replace(/\s+/gu, ' ').trim()} `;
}

const says = (transcript: string, choices: readonly string[]) => choices.some((w) => words(w).trim() !== '' && transcript.includes(words(w)));

/**
 * A spoken choice (docs/http.md §10), matched against the words of ivr/<lang>.json `speech`. In the
 * reason menu a reason's words are its digit. At the menu "available" is digit 2, a reason's
 * words pick that break at once, "break" is digit 1 and "repeat" digit 3. Nothing heard, or words
 * of choices that contradict each other ("back from lunch": available and lunch), is a wrong input.
 */
export function heard(ctx: FlowContext, step: 'menu' | 'reason', speech: string): { digits: string } | { reason: string } | undefined {
  const t = words(speech);
  const reasons = ctx.catalog.reasons.filter((r) => says(t, ctx.pack.speech.reasons[r.id] ?? []));
  if (step === 'reason') return reasons.length === 1 ? { digits: reasons[0]!.digit } : undefined;
  const available = says(t, ctx.pack.speech.available);
  const onBreak = says(t, ctx.pack.speech.break) || reasons.length > 0;
  const repeat = says(t, ctx.pack.speech.repeat);
  if ([available, onBreak, repeat].filter(Boolean).length !== 1 || reasons.length > 1) return undefined;
  if (available) return { digits: '2' };
  if (repeat) return { digits: '3' };
  return reasons.length === 1 ? { reason: reasons[0]!.id } : { digits: '1' };
}

/** The caller's input at a gather: pressed digits win over speech. */
export interface CallInput {
  digits?: string;
  speech?: string;
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

export function decide(ctx: FlowContext, mode: Mode, state: CallState, agent: AgentRecord, input: CallInput): Decision {
  let digits = input.digits;
  if (digits === undefined && input.speech !== undefined && state.step !== 'start') {
    const choice = heard(ctx, state.step, input.speech);
    if (choice && 'reason' in choice) return { kind: 'change', pause: true, reason: choice.reason };
    // Speech that picks nothing is a wrong input, not a missing one.
    digits = choice?.digits ?? '';
  }
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

/** The agent's state as a sentence, without a change (Exotel's greeting for a call not seen yet). */
export function currentState(pack: LanguagePack, agent: AgentRecord): IvrVerb[] {
  return [stateNow(pack, agent, false)];
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
