import type { Config } from '../config.js';
import { AppError, invalid, missing } from '../http/errors.js';
import type { Params } from '../http/params.js';
import type { MethodContext, WebhookMethod } from '../webhook/registry.js';
import { parseContactNumbers } from './contactNumbers.js';
import type { Credentials, OutboundService } from './outbound.service.js';

/** The central webhook methods of docs/http.md §2.3 and 2.4: parameters in, service call, reply out. */

export const MAX_DELAY_MINUTES = 10_080;
const SECURITY_ID_LENGTH = 64;
const FLOW_ID_LENGTH = 8;
const MAX_IDEMPOTENCY_KEY = 255;

export function outboundMethods(service: OutboundService, config: Config): WebhookMethod[] {
  const createOutbound: WebhookMethod = {
    name: 'createOutbound',
    // createOutbound's failure replies carry `obdResponseCode` equal to the HTTP status.
    failure: (e) => ({ obdResponseCode: e instanceof AppError ? e.status : 500, obdReqID: null }),
    handle: async (ctx) => {
      const { stage, params } = ctx;
      requireApiVersion(params, true);
      const creds = credentials(params);
      const flowID = params.requireString('flowID');
      if ([...flowID].length !== FLOW_ID_LENGTH) throw invalid('flowID', `flowID must be ${FLOW_ID_LENGTH} characters`);
      const idempotencyKey = idempotencyKeyOf(ctx);
      const client = await service.authenticate(stage, creds);
      const first = await service.replay(stage, client, idempotencyKey);
      if (first) return first;
      service.requireFlow(client, flowID);
      const delayMinutes = params.int('delayMinutes', { min: 0, max: MAX_DELAY_MINUTES }) ?? 0;
      const numbers = parseContactNumbers(params.list('contactNumbers'), config.DEFAULT_REGION);
      return service.create(stage, client, { flowID, delayMinutes, numbers, idempotencyKey });
    },
  };

  const statusMethod = (name: string, run: typeof service.status): WebhookMethod => ({
    name,
    failure: { obdReqID: null, status: null },
    handle: async ({ stage, params }) => {
      requireApiVersion(params, false);
      const creds = credentials(params);
      const reqID = params.requireString('obdReqID', { max: 64 });
      const client = await service.authenticate(stage, creds);
      return { body: { ...(await run.call(service, stage, client, reqID)) } };
    },
  });

  return [createOutbound, statusMethod('getOutboundStatus', service.status), statusMethod('cancelOutbound', service.cancel)];
}

function requireApiVersion(params: Params, required: boolean): void {
  const v = params.raw('apiVersion');
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (required) throw missing('apiVersion');
    return;
  }
  // JSON cannot tell 1.0 from 1, so the number 1 is version 1.0 too.
  if (v === 1 || (typeof v === 'string' && v.trim() === '1.0')) return;
  throw new AppError('UNSUPPORTED_API_VERSION', 'only apiVersion 1.0 is supported', 'apiVersion');
}

function credentials(params: Params): Credentials {
  const clientID = params.requireString('clientID', { max: 128 });
  const securityID = params.requireString('securityID');
  // The message names the rule, never the value.
  if ([...securityID].length !== SECURITY_ID_LENGTH) throw invalid('securityID', `securityID must be ${SECURITY_ID_LENGTH} characters`);
  return { clientID, securityID };
}

/** `Idempotency-Key` header, else the `requestRef` parameter. */
function idempotencyKeyOf({ headers, params }: MethodContext): string | undefined {
  const given = headers['idempotency-key'];
  const header = Array.isArray(given) ? given.join(', ') : given;
  const [field, key] = header !== undefined ? ['Idempotency-Key', header.trim()] : ['requestRef', params.string('requestRef')?.trim()];
  if (key === undefined) return undefined;
  if (key === '' || key.length > MAX_IDEMPOTENCY_KEY || !/^[\x20-\x7e]+$/.test(key)) {
    throw invalid(field, `${field} must be 1-${MAX_IDEMPOTENCY_KEY} printable ASCII characters`);
  }
  return key;
}
