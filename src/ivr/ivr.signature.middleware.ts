import type { Request, RequestHandler } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import { queryPairs } from '../http/query.js';
import type { CallInfo } from './ivr.request.js';
import { ed25519PublicKey, verifyPlivoV3, verifyTelnyx, verifyTwilio, type FormParams } from './ivr.signature.js';

/**
 * The signature check of `/ivr/*` (docs/http.md §4, §7.1, §10), layered like twilio-node: the
 * expected signature and its validation are pure functions (ivr.signature.ts); these middlewares
 * run them and let a request through only when a configured platform's signature is valid. With
 * no token or key set, everything passes and the call is read as docs/http.md §4 says.
 *
 * With one set, the call is read ONLY from what the valid signature covers, under the platform's
 * own field names, and left in `res.locals.signedCall` for the route: nothing unsigned (a JSON or
 * XML body, a look-alike name such as `CallFrom` or `from`) can choose the caller or the call id.
 */

export type Signer = 'twilio' | 'plivo' | 'telnyx';

/** The platform's own names of the call fields (docs/http.md §7.1). */
const FIELDS: Record<Signer, Record<keyof CallInfo, string>> = {
  twilio: { callId: 'CallSid', cli: 'From', did: 'To', digits: 'Digits', speech: 'SpeechResult' },
  plivo: { callId: 'CallUUID', cli: 'From', did: 'To', digits: 'Digits', speech: 'Speech' },
  telnyx: { callId: 'CallSid', cli: 'From', did: 'To', digits: 'Digits', speech: 'SpeechResult' },
};

/** Telnyx's replay window: a signature whose timestamp is further than this from now is refused. */
export const TELNYX_TOLERANCE_SECONDS = 5 * 60;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The call as the checked signature covers it (only when IVR signatures are configured). */
      signedCall?: CallInfo & { signer: Signer };
    }
  }
}

const forbidden = (message: string) => new AppError('FORBIDDEN', message);

export function signaturesConfigured(config: Config): boolean {
  return Boolean(config.TWILIO_AUTH_TOKEN || config.PLIVO_AUTH_TOKEN || config.TELNYX_PUBLIC_KEY);
}

/**
 * Before the body is read: a signed IVR route takes only form bodies, the one kind Twilio and
 * Plivo sign field by field (and Telnyx sends). A JSON or XML body is refused unread.
 */
export function signedBodyTypes(config: Config): RequestHandler {
  const on = signaturesConfigured(config);
  return (req, _res, next) => {
    if (on && req.is(['application/json', '+json', 'application/xml', 'text/xml', '+xml'])) {
      return next(forbidden('signed IVR callbacks carry a form body (application/x-www-form-urlencoded), not JSON or XML'));
    }
    next();
  };
}

function formFields(req: Request, kind: string | undefined, fields: unknown): FormParams {
  return kind === 'form' && Array.isArray(fields) ? (fields as [string, string][]) : [];
}

/** Which configured platform signed this request, if any. */
function signer(config: Config, req: Request, form: FormParams, telnyxKey: ReturnType<typeof ed25519PublicKey> | undefined, nowMs: number): Signer | undefined {
  const url = `${config.PUBLIC_BASE_URL}${req.originalUrl}`;
  if (config.TWILIO_AUTH_TOKEN && verifyTwilio(config.TWILIO_AUTH_TOKEN, url, form, req.get('x-twilio-signature'))) return 'twilio';
  if (
    config.PLIVO_AUTH_TOKEN &&
    verifyPlivoV3(config.PLIVO_AUTH_TOKEN, req.method, url, form, req.get('x-plivo-signature-v3'), req.get('x-plivo-signature-v3-nonce'))
  ) {
    return 'plivo';
  }
  if (telnyxKey) {
    const timestamp = req.get('telnyx-timestamp');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (verifyTelnyx(telnyxKey, timestamp, body, req.get('telnyx-signature-ed25519'))) {
      const age = nowMs / 1000 - Number(timestamp);
      if (!/^\d{1,12}$/.test(timestamp!) || Math.abs(age) > TELNYX_TOLERANCE_SECONDS) {
        throw forbidden(`the Telnyx signature's timestamp is more than ${TELNYX_TOLERANCE_SECONDS / 60} minutes from now`);
      }
      return 'telnyx';
    }
  }
  return undefined;
}

/**
 * After `readBody`: verify, then read the call from the signed fields only. Twilio and Plivo sign
 * the URL (with its query) and the form fields; Telnyx signs the body alone, so for Telnyx only
 * the body's fields count. A call field given twice, or a signed request without its call id (a
 * signature re-split as `C=allSidCA77`), is refused.
 */
export function ivrSignatureCheck(config: Config, clock: Clock): RequestHandler {
  if (!signaturesConfigured(config)) return (_req, _res, next) => next();
  const telnyxKey = config.TELNYX_PUBLIC_KEY ? ed25519PublicKey(config.TELNYX_PUBLIC_KEY) : undefined;
  return (req, res, next) => {
    try {
      const form = formFields(req, res.locals.input?.kind, res.locals.input?.fields);
      const by = signer(config, req, form, telnyxKey, clock.now());
      if (!by) throw forbidden('the request signature is missing or invalid');
      const covered = by === 'telnyx' ? form : [...queryPairs(req), ...form];
      const read = (name: string): string | undefined => {
        const values = covered.filter(([k]) => k === name).map(([, v]) => v);
        if (values.length > 1) throw forbidden(`${name} is given more than once`);
        const v = values[0]?.trim();
        return v === '' ? undefined : v;
      };
      const names = FIELDS[by];
      const callId = read(names.callId);
      if (!callId) throw forbidden(`a signed ${by} callback must carry ${names.callId}`);
      res.locals.signedCall = {
        signer: by,
        callId,
        cli: read(names.cli),
        did: read(names.did),
        digits: read(names.digits),
        speech: read(names.speech),
      };
      next();
    } catch (e) {
      next(e);
    }
  };
}
