import type { Request, Router } from 'express';
import type { Config } from '../config.js';
import { readBody, type RequestInput } from '../http/body.js';
import { AppError } from '../http/errors.js';
import { handle, send } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import { verifyPlivoV3, verifyTwilio, type FormParams } from '../ivr/ivr.signature.js';
import type { CallOutcome } from './dialer.js';
import { exotelOutcome } from './exotelDialer.js';
import type { OutboundService } from './outbound.service.js';
import { plivoOutcome } from './plivoDialer.js';
import { twilioOutcome } from './twilioDialer.js';

/**
 * `POST /outbound/{stage}/status/{key}` (docs/http.md §9): the platform's report of a call's end.
 * `key` is the attempt's random callback key, so it names the contact and, for Exotel (which
 * does not sign), is the per-contact secret. Twilio (`X-Twilio-Signature`) and Plivo
 * (`X-Plivo-Signature-V3`) callbacks must carry a valid signature over PUBLIC_BASE_URL + path
 * (the pure verifiers of src/ivr/ivr.signature.ts) and a form body, else 403 with nothing
 * changed. A status that is not final (ringing, in-progress) is acknowledged and ignored; an
 * unknown or spent key is 404; a final one is recorded once and answered 200.
 */
export function statusRoutes(router: Router, service: OutboundService, config: Config): void {
  route(
    router,
    '/outbound/:stage/status/:key',
    {
      post: [
        readBody(),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const key = String(req.params.key);
          if (!/^[0-9a-f]{32}$/.test(key)) throw new AppError('NOT_FOUND', 'no call with this status key');
          const report = readReport(req, res.locals.input, config);
          if (report === undefined) return send(req, res, 200, { recorded: false });
          const result = await service.recordOutcome(stage, key, report.outcome, report.durationSeconds);
          if (result.kind === 'unknown') throw new AppError('NOT_FOUND', 'no call awaits an outcome under this status key');
          send(req, res, 200, { recorded: true, outcome: result.outcome });
        }),
      ],
    },
    stageGuard,
  );
}

type Input = RequestInput | undefined;

/** The outcome the platform reports, or undefined when the status is not final; 403 when the request is not the platform's. */
function readReport(req: Request, input: Input, config: Config): { outcome: CallOutcome; durationSeconds: number | null } | undefined {
  const form: FormParams = input?.kind === 'form' && Array.isArray(input.fields) ? input.fields : [];
  const field = (name: string): string | undefined => {
    if (input?.kind === 'json' && !Array.isArray(input.fields)) {
      const v = (input.fields as Record<string, unknown>)[name];
      return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    }
    return form.find(([k]) => k === name)?.[1];
  };
  const url = `${config.PUBLIC_BASE_URL ?? ''}${req.originalUrl}`;
  const forbidden = () => new AppError('FORBIDDEN', 'the status callback is not signed by the platform');
  switch (config.DIALER) {
    case 'twilio':
      if (input?.kind !== 'form' || !verifyTwilio(config.TWILIO_AUTH_TOKEN!, url, form, req.get('x-twilio-signature'))) throw forbidden();
      return report(twilioOutcome(field('CallStatus')), field('CallDuration'));
    case 'plivo':
      if (input?.kind !== 'form' || !verifyPlivoV3(config.PLIVO_AUTH_TOKEN!, 'POST', url, form, req.get('x-plivo-signature-v3'), req.get('x-plivo-signature-v3-nonce'))) {
        throw forbidden();
      }
      return report(plivoOutcome(field('CallStatus')), field('Duration'));
    case 'exotel':
      // The key in the URL is the secret; Exotel sends JSON when asked (StatusCallbackContentType) or a form.
      return report(exotelOutcome(field('Status')), field('ConversationDuration'));
    default:
      throw new AppError('NOT_FOUND', 'no platform dialer reports outcomes here');
  }
}

function report(outcome: CallOutcome | undefined, duration: string | undefined) {
  if (!outcome) return undefined;
  const d = duration !== undefined && /^\d{1,7}$/.test(duration.trim()) ? Number(duration) : null;
  return { outcome, durationSeconds: d };
}
