import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import type { Stage } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import type { AgentRecord, PauseOutcome } from '../pause/pause.store.js';
import type { PauseService } from '../pause/pause.service.js';
import type { IvrCatalog, LanguagePack } from './ivr.catalog.js';
import { DIALECT_TABLES, DIALECTS, type Dialect } from './dialects.js';
import { afterChange, currentState, decide, readState, spoken, type CallState, type FlowContext, type Mode } from './ivr.flow.js';
import type { IvrVerb, Voice } from './ivr.reply.js';
import type { CallInfo } from './ivr.request.js';
import type { IvrStepsStore } from './ivr.steps.store.js';
import { contentTypeOf, renderReply, spokenText, type RenderedReply } from './render.js';

/**
 * Answering one platform callback of an inbound DID call (docs/http.md §4, §7.1, §10), free of
 * HTTP: the route hands over the stage, the path and query the platform called and the call's
 * fields, and gets back what to send. Every reply to a call is 200 in an XML dialect, also for
 * unknown callers and the per-agent limit, because platforms treat other statuses as failures;
 * Exotel's Passthru branches on 200/302 instead. A call that began more than
 * IVR_CALL_MAX_MINUTES earlier is refused (AppError FORBIDDEN).
 */

export interface IncomingCall {
  stage: Stage;
  /** The path the platform called (`/ivr/test/inbound`); action URLs and step keys build on it. */
  path: string;
  /** The URL's query: the call's settings (dialect, mode, lang) and its step (step, miss, seq). */
  query: URLSearchParams;
  call: CallInfo;
}

export type IvrAnswer = RenderedReply;

export interface IvrServiceDeps {
  config: Config;
  clock: Clock;
  pause: PauseService;
  catalog: IvrCatalog;
  steps: IvrStepsStore;
}

/**
 * The only query parameters an emitted action URL carries: the call's settings and its step.
 * The platform's own parameters (CallSid, CallFrom, digits…) are never copied, because platforms
 * that call back with GET (Exotel) append fresh ones and a stale copy would shadow them.
 */
const SETTING_PARAMS = new Set(['dialect', 'mode', 'lang']);

/**
 * A stored step reply (ivr_steps.reply) is the answer as JSON: its status (Exotel branches on
 * it) and body. A plain XML string, as stored before, is a 200 with that body.
 */
function encodeStored(r: { status: number; body: string }): string {
  return JSON.stringify({ status: r.status, body: r.body });
}

function decodeStored(s: string): { status: number; body: string } {
  if (!s.startsWith('{')) return { status: 200, body: s };
  const r = JSON.parse(s) as { status: number; body: string };
  return { status: r.status, body: r.body };
}

export function dialectOf(query: URLSearchParams, fallback: Dialect): Dialect {
  return DIALECTS.find((d) => d === query.get('dialect')?.toLowerCase()) ?? fallback;
}

/** The voice a dialect speaks with, from the language file (its own key, else its fallback). */
function voiceOf(pack: LanguagePack, dialect: Dialect): Voice {
  const t = DIALECT_TABLES[dialect];
  if (t.format === 'text') return { language: pack.voice.twiml.language };
  const voices = pack.voice as Record<string, Voice | undefined>;
  return voices[t.voice.key] ?? voices[t.voice.fallback ?? '']!;
}

export function createIvrService({ config, clock, pause, catalog, steps }: IvrServiceDeps) {
  const maxCallMs = config.IVR_CALL_MAX_MINUTES * 60_000;

  function languageOf(lang: string | null | undefined, agent: AgentRecord | undefined): LanguagePack {
    const language = [lang, agent?.language].find((l): l is string => l != null && catalog.has(l)) ?? config.IVR_LANGUAGE;
    return catalog.pack(language);
  }

  async function agentOf(stage: Stage, raw: string | undefined): Promise<{ cli?: string; agent?: AgentRecord }> {
    const cli = raw === undefined ? undefined : normalizePhone(raw, config.DEFAULT_REGION);
    return { cli, agent: cli === undefined ? undefined : await pause.getAgent(stage, cli) };
  }

  async function answerCall({ stage, path, query, call }: IncomingCall): Promise<IvrAnswer> {
    const dialect = dialectOf(query, config.IVR_DIALECT);
    const modeParam = query.get('mode')?.toLowerCase();
    const chosenMode: Mode = modeParam === 'toggle' || modeParam === 'menu' ? modeParam : config.IVR_MODE;
    // Exotel's Passthru cannot gather: it toggles, and the flow's branch speaks the result.
    const mode: Mode = DIALECT_TABLES[dialect].format === 'text' ? 'toggle' : chosenMode;
    const state = readState(query);

    const { cli, agent } = await agentOf(stage, call.cli);
    const pack = languageOf(query.get('lang'), agent);
    const voice = voiceOf(pack, dialect);
    const render = (verbs: IvrVerb[], onBreak?: boolean) => renderReply(dialect, { voice, verbs, onBreak });

    // Unknown, withheld or non-numeric callers: speak and hang up; nothing is stored.
    if (!agent || !cli) return render(spoken(pack, 'notRegistered'));

    const callId = call.callId;
    const now = clock.now();
    // docs/http.md §7.1: a call that began longer ago than any real call lasts is a replay.
    const expired = () => new AppError('FORBIDDEN', `call ${callId!.slice(0, 64)} began more than ${config.IVR_CALL_MAX_MINUTES} minutes ago`);

    const ctx: FlowContext = {
      catalog,
      pack,
      speech: config.IVR_SPEECH,
      actionUrl(next: CallState) {
        const q = new URLSearchParams([...query].filter(([k]) => SETTING_PARAMS.has(k)));
        q.set('step', next.step);
        q.set('miss', String(next.miss));
        q.set('seq', String(next.seq));
        return `${config.PUBLIC_BASE_URL ?? ''}${path}?${q.toString()}`;
      },
    };

    // A platform retry of this call's step gets the stored reply and changes nothing again. The
    // reply is stored with the call's record (first seen, what it heard: Exotel's Greeting) in
    // one transaction, the pause change's own when there is one; the stored reply, the call's
    // age and the agent are checked inside it.
    const step = callId
      ? { stage, callId, step: `${path}?${query.toString()}|${call.digits ?? ''}|${call.speech ?? ''}`, refuseSeenBefore: now - maxCallMs }
      : undefined;
    const answer = (stored: string): IvrAnswer => ({ ...decodeStored(stored), contentType: contentTypeOf(dialect) });
    const kept = (verbs: IvrVerb[], onBreak?: boolean) => {
      const r = render(verbs, onBreak);
      return { rendered: r, kept: { reply: encodeStored(r), said: spokenText({ verbs }) } };
    };
    const keep = async (verbs: IvrVerb[], onBreak?: boolean): Promise<IvrAnswer> => {
      const k = kept(verbs, onBreak);
      if (!step) return k.rendered;
      const r = await steps.keep(step, k.kept, now);
      if (r.kind === 'expired') throw expired();
      return answer(r.reply);
    };

    const decision = decide(ctx, mode, state, agent, { digits: call.digits, speech: call.speech });
    if (decision.kind === 'reply') return keep(decision.verbs, agent.pause);

    const verbsFor = (o: Pick<PauseOutcome, 'agent' | 'changed'>) => afterChange(ctx, state, o.agent, o.changed);
    try {
      // If this step was answered meanwhile (a platform retry that overtook us), nothing changes and that answer is given.
      const result = await pause.changePauseWith(
        { stage, cli, pause: decision.pause, reason: decision.reason, source: 'ivr', callId: callId ?? null },
        { agent, alsoKeep: step && { ...step, reply: (o) => kept(verbsFor(o), o.agent.pause).kept } },
      );
      if (result.kind === 'expired') throw expired();
      if (result.kind === 'replayed') return answer(result.reply);
      if (result.kind === 'applied' && result.reply !== undefined) return answer(result.reply);
      const outcome = result.kind === 'applied' ? result : { agent: result.agent, changed: false };
      return render(verbsFor(outcome), outcome.agent.pause);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      if (e.code === 'RATE_LIMITED') return keep(spoken(pack, 'rateLimited'));
      if (e.code === 'AGENT_NOT_FOUND') return render(spoken(pack, 'notRegistered'));
      throw e;
    }
  }

  /**
   * What a call should hear now (docs/http.md §10, Exotel's Greeting): what its latest reply
   * spoke, in the language it was spoken in; for a call not seen yet, the caller's current state
   * (or the not-registered prompt), in the agent's language.
   */
  async function sayNow({ stage, query, call }: Omit<IncomingCall, 'path'>): Promise<string> {
    const said = call.callId ? await steps.lastSaid(stage, call.callId) : undefined;
    if (said !== undefined) return said;
    const { agent } = await agentOf(stage, call.cli);
    const pack = languageOf(query.get('lang'), agent);
    return spokenText({ verbs: agent ? currentState(pack, agent) : spoken(pack, 'notRegistered') });
  }

  return { answerCall, sayNow };
}

export type IvrService = ReturnType<typeof createIvrService>;
