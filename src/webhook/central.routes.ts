import type { Router } from 'express';
import { AppError, missing } from '../http/errors.js';
import { readBody } from '../http/body.js';
import { Params } from '../http/params.js';
import { handle, send } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import type { WebhookMethod } from './registry.js';

/** `POST /centraloutboundwebhook-v1/{stage}/` — dispatch by `method` to the registry. */
export function centralWebhookRoutes(router: Router, methods: WebhookMethod[]): void {
  const byName = new Map(methods.map((m) => [m.name.toLowerCase(), m]));
  route(
    router,
    '/centraloutboundwebhook-v1/:stage',
    {
      post: [
        readBody(),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const params = Params.fromRequest(req, res);
          const name = params.string('method');
          if (name === undefined || name.trim() === '') throw missing('method');
          const method = byName.get(name.trim().toLowerCase());
          if (!method) throw new AppError('UNKNOWN_METHOD', `unknown method "${name.slice(0, 64)}"`, 'method');
          res.locals.webhookMethod = method.name;
          const { failure } = method;
          if (typeof failure !== 'function') res.locals.failure = failure;
          let result;
          try {
            result = await method.handle({ stage, params, headers: req.headers });
          } catch (e) {
            if (typeof failure === 'function') res.locals.failure = failure(e);
            throw e;
          }
          send(req, res, result.status ?? 200, result.body);
        }),
      ],
    },
    stageGuard,
  );
}
