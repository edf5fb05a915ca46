import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import type { Stage } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import type { PauseOutcome, PauseService } from '../pause/pause.service.js';
import type { IvrCatalog } from './ivr.catalog.js';
import { afterChange, decide, readState, spoken, type CallState, type FlowContext, type Mode } from './ivr.flow.js';
import { DIALECTS, type Dialect, type IvrVerb } from './ivr.reply.js';
import type { CallInfo } from './ivr.request.js';
import type { IvrStepsStore } from './ivr.steps.store.js';
import { renderReply } from './render.js';

/**
 * Answering one platform callback of an inbound DID call (docs/http.md §4), free of HTTP: the
 * route hands over the stage, the path and query the platform called and the call's fields, and
 * gets back what to send. Every reply to a call is 200 in the chosen dialect, also for unknown
 * callers and the per-agent limit, because platforms treat other statuses as failures.
 */

export interface IncomingCall {
  stage: Stage;
  /** The path the platform called (`/ivr/test/inbound`); action URLs and step keys build on it. */
  path: string;
  /** The URL's query: the call's settings (dialect, mode, lang) and its step (step, miss, seq). */
  query: URLSearchParams;
  call: CallInfo;
}

export interface IvrAnswer {
  status: number;
  contentType: string;
  body: string;
}

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

export function createIvrService({ config, clock, pause, catalog, steps }: IvrServiceDeps) {
  async function answerCall({ stage, path, query, call }: IncomingCall): Promise<IvrAnswer> {
    const dialect: Dialect = DIALECTS.find((d) => d === query.get('dialect')?.toLowerCase()) ?? config.IVR_DIALECT;
    const modeParam = query.get('mode')?.toLowerCase();
    const mode: Mode = modeParam === 'toggle' || modeParam === 'menu' ? modeParam : config.IVR_MODE;
    const state = readState(query);

    const cli = call.cli === undefined ? undefined : normalizePhone(call.cli, config.DEFAULT_REGION);
    const agent = cli === undefined ? undefined : await pause.getAgent(stage, cli);
    const language = [query.get('lang'), agent?.language].find((l): l is string => l != null && catalog.has(l)) ?? config.IVR_LANGUAGE;
    const pack = catalog.pack(language);
    const render = (verbs: IvrVerb[]) => renderReply(dialect, { voice: pack.voice[dialect], verbs });
    const reply = (body: string): IvrAnswer => ({ status: 200, contentType: 'application/xml; charset=utf-8', body });

    // Unknown, withheld or non-numeric callers: speak and hang up; nothing is stored.
    if (!agent || !cli) return reply(render(spoken(pack, 'notRegistered')));

    const ctx: FlowContext = {
      catalog,
      pack,
      actionUrl(next: CallState) {
        const q = new URLSearchParams([...query].filter(([k]) => SETTING_PARAMS.has(k)));
        q.set('step', next.step);
        q.set('miss', String(next.miss));
        q.set('seq', String(next.seq));
        return `${config.PUBLIC_BASE_URL ?? ''}${path}?${q.toString()}`;
      },
    };

    // docs/http.md §7.1: a call that began longer ago than any real call lasts is a replay.
    const callId = call.callId;
    if (callId && clock.now() - (await steps.firstSeen(stage, callId, clock.now())) > config.IVR_CALL_MAX_MINUTES * 60_000) {
      throw new AppError('FORBIDDEN', `call ${callId.slice(0, 64)} began more than ${config.IVR_CALL_MAX_MINUTES} minutes ago`);
    }

    // A platform retry of this call's step gets the stored reply and changes nothing again.
    const stepKey = `${path}?${query.toString()}|${call.digits ?? ''}`;
    const stored = callId ? await steps.get(stage, callId, stepKey) : undefined;
    if (stored !== undefined) return reply(stored);
    const keep = async (xml: string) => (callId ? steps.keep(stage, callId, stepKey, xml, clock.now()) : xml);

    const decision = decide(ctx, mode, state, agent, call.digits);
    if (decision.kind === 'reply') return reply(await keep(render(decision.verbs)));

    const replyTo = (o: PauseOutcome) => render(afterChange(ctx, state, o.agent, o.changed));
    let xml: string;
    try {
      // The reply is stored in the change's own transaction; if this step was answered meanwhile
      // (a platform retry that overtook us), nothing changes and that answer is given.
      const result = await pause.changePauseWith(
        { stage, cli, pause: decision.pause, reason: decision.reason, source: 'ivr', callId: callId ?? null },
        { agent, alsoKeep: callId ? { stage, callId, step: stepKey, reply: replyTo } : undefined },
      );
      if (result.kind === 'replayed') xml = result.reply;
      else if (result.kind === 'applied') xml = result.reply ?? replyTo(result);
      else xml = replyTo({ agent: result.agent, changed: false, event: null });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      if (e.code === 'RATE_LIMITED') xml = await keep(render(spoken(pack, 'rateLimited')));
      else if (e.code === 'AGENT_NOT_FOUND') xml = render(spoken(pack, 'notRegistered'));
      else throw e;
    }
    return reply(xml);
  }

  return { answerCall };
}

export type IvrService = ReturnType<typeof createIvrService>;
