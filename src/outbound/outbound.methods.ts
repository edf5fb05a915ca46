import type { Config } from '../config.js';
import { AppError, invalid, missing } from '../http/errors.js';
import type { Params } from '../http/params.js';
import type { MethodContext, WebhookMethod } from '../webhook/registry.js';
import { parseContactNumbers } from './contactNumbers.js';
import { parseContacts, type NewContact } from './contacts.js';
import { CATEGORIES, type Category } from './dialer.js';
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
      return service.create(stage, client, {
        flowID,
        delayMinutes,
        idempotencyKey,
        contacts: contactsOf(params, config.DEFAULT_REGION),
        category: categoryOf(params),
        statusCallbackUrl: callbackUrlOf(params, config),
        expiresAt: expiresAtOf(params),
      });
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

  return [
    createOutbound,
    statusMethod('getOutboundStatus', service.status),
    statusMethod('cancelOutbound', service.cancel),
    statusMethod('pauseOutbound', service.pause),
    statusMethod('resumeOutbound', service.resume),
  ];
}

/** `contacts` (docs/http.md §9) or `contactNumbers` (§2.3), not both. */
function contactsOf(params: Params, region: string): NewContact[] {
  const contacts = params.raw('contacts');
  if (contacts !== undefined) {
    if (params.raw('contactNumbers') !== undefined) throw invalid('contacts', 'give contacts or contactNumbers, not both');
    return parseContacts(contacts, region);
  }
  return parseContactNumbers(params.list('contactNumbers'), region).map((number) => ({ number, keys: {} }));
}

function categoryOf(params: Params): Category {
  const v = params.string('category')?.trim().toLowerCase();
  if (v === undefined || v === '') return 'transactional';
  if (!(CATEGORIES as readonly string[]).includes(v)) throw invalid('category', `category must be one of ${CATEGORIES.join(', ')}`);
  return v as Category;
}

const MAX_URL = 2048;

function callbackUrlOf(params: Params, config: Config): string | undefined {
  const v = params.string('statusCallbackUrl', { max: MAX_URL })?.trim();
  if (v === undefined || v === '') return undefined;
  // The notifications are signed like the change notifications (docs/http.md §9).
  if (!config.EVENTS_WEBHOOK_SECRET) throw invalid('statusCallbackUrl', 'statusCallbackUrl needs EVENTS_WEBHOOK_SECRET set on the service (its notifications are signed)');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw invalid('statusCallbackUrl', 'statusCallbackUrl must be an absolute http or https URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) throw invalid('statusCallbackUrl', 'statusCallbackUrl must be an absolute http or https URL');
  if (u.username || u.password) throw invalid('statusCallbackUrl', 'statusCallbackUrl must not carry user:password@');
  return u.toString();
}

/** ISO-8601 with a date and a time (and zone); a contact not dialled by then is `expired`. */
function expiresAtOf(params: Params): number | undefined {
  const v = params.string('expiresAt', { max: 64 })?.trim();
  if (v === undefined || v === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw invalid('expiresAt', 'expiresAt must be an ISO-8601 date and time with a zone, e.g. 2026-12-01T18:00:00+05:30');
  return ms;
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
