import type { NextFunction, Request, Response, Router } from 'express';
import type { AppDeps } from '../deps.js';
import { readBody } from '../http/body.js';
import { queryPairs } from '../http/query.js';
import { handle } from '../http/respond.js';
import { parseStage, route, stageGuard, type Stage } from '../http/routing.js';
import { readCall } from './ivr.request.js';
import type { IvrService } from './ivr.service.js';
import { ivrSignatureCheck, signedBodyTypes } from './ivr.signature.middleware.js';

/** `/ivr/inbound` (= `/ivr/prod/inbound`) and `/ivr/{stage}/inbound` (docs/http.md §4). Errors before a call is read answer in XML. */
export function ivrRoutes(router: Router, { config, clock }: Pick<AppDeps, 'config' | 'clock'>, ivr: IvrService): void {
  const xmlReplies = (_req: Request, res: Response, next: NextFunction) => ((res.locals.format = 'xml'), next());
  const answer = (stageOf: (req: Request) => Stage) =>
    handle(async (req, res) => {
      const a = await ivr.answerCall({ stage: stageOf(req), path: req.path, query: new URLSearchParams(queryPairs(req)), call: readCall(req, res) });
      res.locals.route = `${req.baseUrl}${String(req.route.path)}`;
      res.status(a.status).type(a.contentType).send(a.body);
    });
  const handlers = (stageOf: (req: Request) => Stage) => {
    const h = [xmlReplies, signedBodyTypes(config), readBody(), ivrSignatureCheck(config, clock), answer(stageOf)];
    return { get: h, post: h };
  };
  route(router, '/ivr/inbound', handlers(() => 'prod'));
  route(router, '/ivr/:stage/inbound', handlers((req) => parseStage(req.params.stage)), stageGuard);
}
