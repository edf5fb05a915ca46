import type { NextFunction, Request, Response, Router } from 'express';
import type { AppDeps } from '../deps.js';
import { readBody } from '../http/body.js';
import { queryPairs } from '../http/query.js';
import { handle } from '../http/respond.js';
import { parseStage, route, stageGuard, type Stage } from '../http/routing.js';
import { readCall } from './ivr.request.js';
import type { IvrService } from './ivr.service.js';
import { ivrSignatureCheck, signedBodyTypes } from './ivr.signature.middleware.js';

/**
 * `/ivr/inbound` (= `/ivr/prod/inbound`), `/ivr/{stage}/inbound`, and Exotel's greeting text at
 * `/ivr/{stage}/exotel/say` (docs/http.md §4, §10). Errors answer in XML.
 */
export function ivrRoutes(router: Router, { config, clock }: Pick<AppDeps, 'config' | 'clock'>, ivr: IvrService): void {
  // Every error under /ivr (405, 404, a body that is not a call) answers in XML, as platforms read it.
  router.use('/ivr', (_req: Request, res: Response, next: NextFunction) => ((res.locals.format = 'xml'), next()));
  const before = [signedBodyTypes(config), readBody(), ivrSignatureCheck(config, clock)];
  const incoming = (req: Request, res: Response, stage: Stage) => ({ stage, path: req.path, query: new URLSearchParams(queryPairs(req)), call: readCall(req, res) });
  const label = (req: Request, res: Response) => (res.locals.route = `${req.baseUrl}${String(req.route.path)}`);

  const inbound = (stageOf: (req: Request) => Stage) => {
    const h = [
      ...before,
      handle(async (req, res) => {
        const a = await ivr.answerCall(incoming(req, res, stageOf(req)));
        label(req, res);
        res.status(a.status).type(a.contentType).send(a.body);
      }),
    ];
    return { get: h, post: h };
  };
  const say = (stageOf: (req: Request) => Stage) => ({
    get: [
      ...before,
      handle(async (req, res) => {
        const text = await ivr.sayNow(incoming(req, res, stageOf(req)));
        label(req, res);
        res.status(200).type('text/plain; charset=utf-8').send(text);
      }),
    ],
  });

  route(router, '/ivr/inbound', inbound(() => 'prod'));
  route(router, '/ivr/:stage/inbound', inbound((req) => parseStage(req.params.stage)), stageGuard);
  route(router, '/ivr/exotel/say', say(() => 'prod'));
  route(router, '/ivr/:stage/exotel/say', say((req) => parseStage(req.params.stage)), stageGuard);
}
