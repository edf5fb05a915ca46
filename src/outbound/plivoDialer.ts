import type { CallOutcome, Dialer, DialOutcome, DialRequest } from './dialer.js';
import { basicAuth, jsonBody, platformRequest, refusal, retryAfterMs, withKeys } from './platformFetch.js';

/**
 * Plivo (DIALER=plivo; docs/http.md §9): `POST {PLIVO_API_URL}/v1/Account/{auth_id}/Call/`, JSON,
 * Basic auth `auth_id:auth_token`, with `from` (the client's callerId), `to`, `answer_url` (the
 * flow's target, the contact's keys in its query), and `hangup_url` (our status callback, which
 * Plivo signs with V3). 201 `{api_id, message, request_uuid}` confirms the call.
 *
 * Plain fetch, not the `plivo` SDK: the SDK (4.79, dist/rest/axios.js) sends every voice request
 * to a hard-coded `https://api.plivo.com/v1/Account/` and ignores its `url` option for them, so it
 * cannot reach a regional endpoint or a local double; this sends the same request it would.
 * Plivo numbers go without `+` (country code then number), as Plivo documents them.
 */

export const DEFAULT_PLIVO_API_URL = 'https://api.plivo.com';
/** Plivo's error code for "too many requests" when it comes in a reply body rather than as HTTP 429. */
const PLIVO_RATE_LIMITED = 5030;

export interface PlivoSettings {
  authId: string;
  authToken: string;
  apiUrl?: string;
  timeoutMs: number;
}

export class PlivoDialer implements Dialer {
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly settings: PlivoSettings) {
    this.url = `${(settings.apiUrl ?? DEFAULT_PLIVO_API_URL).replace(/\/+$/, '')}/v1/Account/${encodeURIComponent(settings.authId)}/Call/`;
    this.authorization = basicAuth(settings.authId, settings.authToken);
  }

  async dial(request: DialRequest, stop?: AbortSignal): Promise<DialOutcome> {
    if (!request.target) return { kind: 'failed', error: `flow ${request.flowID} has no Plivo answer URL` };
    if (!request.callerId) return { kind: 'failed', error: `client ${request.clientID} has no callerId` };
    if (!request.statusCallbackUrl) return { kind: 'failed', error: 'no status callback URL (PUBLIC_BASE_URL)' };
    const body = {
      from: plivoNumber(request.callerId),
      to: plivoNumber(request.number),
      answer_url: withKeys(request.target, request.keys),
      answer_method: 'POST',
      hangup_url: request.statusCallbackUrl,
      hangup_method: 'POST',
    };
    const reply = await platformRequest(
      'plivo',
      this.url,
      {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'central-webhooks-dialer' },
        body: JSON.stringify(body),
      },
      this.settings.timeoutMs,
      stop,
    );
    if ('error' in reply) return { kind: 'retry', error: reply.error };
    const json = jsonBody(reply.text);
    if (reply.status >= 200 && reply.status < 300) {
      const uuid = json?.request_uuid;
      return { kind: 'dispatched', callId: typeof uuid === 'string' ? uuid : undefined, awaits: 'callback' };
    }
    if (json && (json.error_code === PLIVO_RATE_LIMITED || json.error_code === String(PLIVO_RATE_LIMITED))) {
      return { kind: 'throttled', retryAfterMs: retryAfterMs(reply.headers.get('retry-after')), error: `plivo answered ${PLIVO_RATE_LIMITED} (too many requests)` };
    }
    return refusal('plivo', reply);
  }
}

/** E.164 without the `+`. */
function plivoNumber(e164: string): string {
  return e164.replace(/^\+/, '');
}

/**
 * Plivo's hangup `CallStatus` as an outcome: `timeout` (the carrier did not connect) is a failed
 * call and `cancel` a canceled one; anything not final (ringing, in-progress) is undefined.
 */
export function plivoOutcome(callStatus: string | undefined): CallOutcome | undefined {
  switch (callStatus) {
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
      return callStatus;
    case 'timeout':
      return 'failed';
    case 'cancel':
    case 'canceled':
      return 'canceled';
    default:
      return undefined;
  }
}
