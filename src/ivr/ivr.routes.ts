import type { NextFunction, Request, Response, Router } from 'express';
import type { AppDeps } from '../deps.js';
import { AppError } from '../http/errors.js';
import { readBody } from '../http/body.js';
import { handle } from '../http/respond.js';
import { parseStage, route, stageGuard, type Stage } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import type { PauseService } from '../pause/pause.service.js';
import type { IvrCatalog } from './ivr.catalog.js';
import { afterChange, decide, readState, spoken, type CallState, type FlowContext, type Mode } from './ivr.flow.js';
import { DIALECTS, type Dialect, type IvrVerb } from './ivr.reply.js';
import { readCall, signedParams } from './ivr.request.js';
import { queryPairs } from '../http/query.js';
import { verifyPlivoV3, verifyTwilio } from './ivr.signature.js';
import type { IvrStepsRepo } from './ivr.steps.repo.js';
import { renderReply } from './render.js';

/**
 * `/ivr/inbound` (= `/ivr/prod/inbound`) and `/ivr/{stage}/inbound` (docs/http.md §4). Every reply to
 * a call is 200 XML in the chosen dialect — also for unknown callers and the per-agent limit —
 * because platforms treat other statuses as failures. Only the allowlist (app.ts) and a failed
 * signature answer 403; a body that is not a call at all gets the status of docs/http.md §1.1, in XML.
 */

/**
 * The only query parameters an emitted action URL carries: the call's settings and its step.
 * The platform's own parameters (CallSid, CallFrom, digits…) are never copied, because platforms
 * that call back with GET (Exotel) append fresh ones and a stale copy would shadow them.
 */
const SETTING_PARAMS = new Set(['dialect', 'mode', 'lang']);

export function ivrRoutes(router: Router, deps: AppDeps, service: PauseService, catalog: IvrCatalog, steps: IvrStepsRepo): void {
  const { config, clock } = deps;

  const xmlReplies = (_req: Request, res: Response, next: NextFunction) => {
    res.locals.format = 'xml';
    next();
  };

  /** Valid signature of either configured platform, over the public URL (docs/http.md §4). */
  function checkSignature(req: Request, res: Response): void {
    if (!config.TWILIO_AUTH_TOKEN && !config.PLIVO_AUTH_TOKEN) return;
    const base = config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const url = base + req.originalUrl;
    const params = signedParams(res);
    const twilio = config.TWILIO_AUTH_TOKEN && verifyTwilio(config.TWILIO_AUTH_TOKEN, url, params, req.get('x-twilio-signature'));
    const plivo =
      config.PLIVO_AUTH_TOKEN &&
      verifyPlivoV3(config.PLIVO_AUTH_TOKEN, req.method, url, params, req.get('x-plivo-signature-v3'), req.get('x-plivo-signature-v3-nonce'));
    if (!twilio && !plivo) throw new AppError('FORBIDDEN', 'the request signature is missing or invalid');
  }

  async function inbound(req: Request, res: Response, stage: Stage): Promise<void> {
    checkSignature(req, res);
    const query = new URLSearchParams(queryPairs(req));
    const dialect: Dialect = DIALECTS.find((d) => d === query.get('dialect')?.toLowerCase()) ?? config.IVR_DIALECT;
    const modeParam = query.get('mode')?.toLowerCase();
    const mode: Mode = modeParam === 'toggle' || modeParam === 'menu' ? modeParam : config.IVR_MODE;
    const langParam = query.get('lang') ?? undefined;
    const state = readState(query);
    const call = readCall(req, res);

    const cli = call.cli === undefined ? undefined : normalizePhone(call.cli, config.DEFAULT_REGION);
    const agent = cli === undefined ? undefined : service.getAgent(stage, cli);
    const language = [langParam, agent?.language].find((l): l is string => l != null && catalog.has(l)) ?? config.IVR_LANGUAGE;
    const pack = catalog.pack(language);
    const render = (verbs: IvrVerb[]) => renderReply(dialect, { voice: pack.voice[dialect], verbs });
    const reply = (xml: string) => {
      res.locals.route = req.route ? `${req.baseUrl}${String(req.route.path)}` : undefined;
      res.status(200).type('application/xml; charset=utf-8').send(xml);
    };

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
        return `${config.PUBLIC_BASE_URL ?? ''}${req.baseUrl}${req.path}?${q.toString()}`;
      },
    };

    // A platform retry of this call's step gets the stored reply and changes nothing again.
    const callId = call.callId;
    const stepKey = `${req.path}?${query.toString()}|${call.digits ?? ''}`;
    const stored = callId ? steps.get(stage, callId, stepKey) : undefined;
    if (stored !== undefined) return reply(stored);
    const keep = (xml: string) => (callId ? steps.keep(stage, callId, stepKey, xml, clock.now()) : xml);

    const decision = decide(ctx, mode, state, agent, call.digits);
    if (decision.kind === 'reply') return reply(keep(render(decision.verbs)));

    let xml: string | undefined;
    try {
      const outcome = await service.changePauseWith(
        { stage, cli, pause: decision.pause, reason: decision.reason, source: 'ivr', callId: callId ?? null },
        {
          proceed: () => !callId || steps.get(stage, callId, stepKey) === undefined,
          record: (o) => {
            xml = keep(render(afterChange(ctx, state, o.agent, o.changed)));
          },
        },
      );
      // null: the same step was answered while we waited for the limiter; give that answer.
      if (!outcome) xml = steps.get(stage, callId!, stepKey);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      if (e.code === 'RATE_LIMITED') xml = keep(render(spoken(pack, 'rateLimited')));
      else if (e.code === 'AGENT_NOT_FOUND') xml = render(spoken(pack, 'notRegistered'));
      else throw e;
    }
    reply(xml!);
  }

  const handlers = (stageOf: (req: Request) => Stage) => {
    const h = [xmlReplies, readBody(), handle((req, res) => inbound(req, res, stageOf(req)))];
    return { get: h, post: h };
  };
  route(router, '/ivr/inbound', handlers(() => 'prod'));
  route(router, '/ivr/:stage/inbound', handlers((req) => parseStage(req.params.stage)), stageGuard);
}
