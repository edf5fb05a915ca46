import { parseXml } from '../xml/parse.js';
import type { Category, CallOutcome, Dialer, DialOutcome, DialRequest } from './dialer.js';
import { basicAuth, jsonBody, platformRequest, refusal } from './platformFetch.js';

/**
 * Exotel (DIALER=exotel; docs/http.md §9): connect the number to a call flow,
 * `POST {EXOTEL_API_URL}/v1/Accounts/{sid}/Calls/connect`, form-encoded, Basic auth
 * `api_key:api_token`, with `From` (the customer), `CallerId` (the client's ExoPhone),
 * `Url=http://my.exotel.com/{sid}/exoml/start_voice/{app_id}` (the flow's target is the app id),
 * `CallType` (`trans`, or `promo` for the promotional category), `CustomField` (the contact's keys
 * as JSON), and a `StatusCallback` for the `terminal` event sent as JSON. Exotel does not sign its
 * callbacks: the callback URL carries the contact's own secret instead. Exotel answers 200 with
 * XML (`<TwilioResponse><Call><Sid>`) or JSON (`{"Call": {"Sid"}}`); both are read.
 * `EXOTEL_API_URL` defaults to the Singapore cluster; Mumbai accounts use https://api.in.exotel.com.
 */

export const DEFAULT_EXOTEL_API_URL = 'https://api.exotel.com';

export interface ExotelSettings {
  accountSid: string;
  apiKey: string;
  apiToken: string;
  apiUrl?: string;
  timeoutMs: number;
}

export class ExotelDialer implements Dialer {
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly settings: ExotelSettings) {
    this.url = `${(settings.apiUrl ?? DEFAULT_EXOTEL_API_URL).replace(/\/+$/, '')}/v1/Accounts/${encodeURIComponent(settings.accountSid)}/Calls/connect`;
    this.authorization = basicAuth(settings.apiKey, settings.apiToken);
  }

  async dial(request: DialRequest, stop?: AbortSignal): Promise<DialOutcome> {
    if (!request.target) return { kind: 'failed', error: `flow ${request.flowID} has no Exotel app id` };
    if (!request.callerId) return { kind: 'failed', error: `client ${request.clientID} has no callerId` };
    if (!request.statusCallbackUrl) return { kind: 'failed', error: 'no status callback URL (PUBLIC_BASE_URL)' };
    const sid = encodeURIComponent(this.settings.accountSid);
    const form = new URLSearchParams({
      From: request.number,
      CallerId: request.callerId,
      Url: `http://my.exotel.com/${sid}/exoml/start_voice/${encodeURIComponent(request.target)}`,
      CallType: exotelCallType(request.category),
      StatusCallback: request.statusCallbackUrl,
      'StatusCallbackEvents[0]': 'terminal',
      StatusCallbackContentType: 'application/json',
      CustomField: JSON.stringify(request.keys),
    });
    const reply = await platformRequest(
      'exotel',
      this.url,
      {
        method: 'POST',
        headers: {
          authorization: this.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json, application/xml;q=0.9',
          'user-agent': 'central-webhooks-dialer',
        },
        body: form.toString(),
      },
      this.settings.timeoutMs,
      stop,
    );
    if ('error' in reply) return { kind: 'retry', error: reply.error };
    if (reply.status >= 200 && reply.status < 300) return { kind: 'dispatched', callId: callSid(reply.text), awaits: 'callback' };
    return refusal('exotel', reply);
  }
}

/** Exotel's CallType: `trans` for transactional and service calls, `promo` for promotional ones. */
export function exotelCallType(category: Category): string {
  return category === 'promotional' ? 'promo' : 'trans';
}

function callSid(text: string): string | undefined {
  const json = jsonBody(text);
  const fromJson = (json?.Call as { Sid?: unknown } | undefined)?.Sid;
  if (typeof fromJson === 'string') return fromJson;
  try {
    const xml = parseXml(text) as { TwilioResponse?: { Call?: { Sid?: unknown } } };
    const sid = xml?.TwilioResponse?.Call?.Sid;
    return typeof sid === 'string' ? sid : undefined;
  } catch {
    return undefined;
  }
}

/** Exotel's StatusCallback `Status`: completed, failed, busy or no-answer. */
export function exotelOutcome(status: string | undefined): CallOutcome | undefined {
  switch (status) {
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return status;
    default:
      return undefined;
  }
}
