import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import { signedParams } from './ivr.request.js';
import { verifyPlivoV3, verifyTwilio } from './ivr.signature.js';

/**
 * The signature check of `/ivr/*` (docs/http.md §4), layered like twilio-node: the expected
 * signature and its validation are pure functions (ivr.signature.ts); this middleware runs them
 * over the public URL and the body after `readBody`, and lets the request through only when a
 * configured platform's signature is valid. Without any token it lets everything through.
 */
export function ivrSignatureCheck(config: Config): RequestHandler {
  const { TWILIO_AUTH_TOKEN: twilioToken, PLIVO_AUTH_TOKEN: plivoToken } = config;
  return (req, res, next) => {
    if (!twilioToken && !plivoToken) return next();
    const base = config.PUBLIC_BASE_URL ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const url = base + req.originalUrl;
    const params = signedParams(res);
    const twilio = twilioToken && verifyTwilio(twilioToken, url, params, req.get('x-twilio-signature'));
    const plivo =
      plivoToken && verifyPlivoV3(plivoToken, req.method, url, params, req.get('x-plivo-signature-v3'), req.get('x-plivo-signature-v3-nonce'));
    if (!twilio && !plivo) return next(new AppError('FORBIDDEN', 'the request signature is missing or invalid'));
    next();
  };
}
