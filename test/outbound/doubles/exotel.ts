import { postCallback, randomHex, startDouble, type Override, type Recorded, type Reply } from './double.js';

/**
 * An Exotel double on 127.0.0.1, speaking the documented Voice v1 API:
 * - Connect a number to a call flow: `POST /v1/Accounts/{sid}/Calls/connect`, form-encoded,
 *   HTTP Basic `api_key:api_token`, with `From`, `CallerId`, `Url` =
 *   `http://my.exotel.com/{sid}/exoml/start_voice/{app_id}`, `CallType`, `StatusCallback`,
 *   `StatusCallbackEvents[0]`, `StatusCallbackContentType`, `CustomField`; 200 with the Call as XML
 *   `<TwilioResponse><Call><Sid>…</Sid>…` (JSON `{"Call": {...}}` for `Calls/connect.json`).
 *   https://developer.exotel.com/api/outgoing-call-to-connect-number-to-a-call-flow
 *   https://developer.exotel.com/docs/voice-v1/api-reference/connect-to-flow
 * - The StatusCallback at the call's end (`terminal` event, JSON when asked for): `CallSid`,
 *   `EventType`, `Status` (completed, failed, busy, no-answer), `ConversationDuration`,
 *   `CustomField`, `From`, `To`, `Direction`, `DateCreated`, `DateUpdated`, `Legs`. Exotel does
 *   not sign callbacks; the service puts a per-contact secret in the callback URL.
 *   https://developer.exotel.com/api/statuscallback  https://developer.exotel.com/docs/references/webhooks
 * - 401 for bad credentials, 429 when throttled (with Retry-After).
 */

export interface ExotelCall {
  sid: string;
  from: string;
  callerId: string;
  url: string;
  callType: string;
  statusCallback: string;
  customField: string;
  request: Recorded;
}

export async function startExotelDouble(opts: { accountSid: string; apiKey: string; apiToken: string; override?: Override }) {
  const calls: ExotelCall[] = [];
  const base = `/v1/Accounts/${opts.accountSid}/Calls/connect`;
  const error = (status: number, message: string, headers?: Record<string, string>): Reply => ({
    status,
    headers,
    body: { RestException: { Status: status, Message: message } },
  });
  const server = await startDouble((r) => {
    if (r.auth !== `${opts.apiKey}:${opts.apiToken}`) return error(401, 'Authentication is required to view this page.');
    const json = r.path === `${base}.json`;
    if (r.method !== 'POST' || (r.path !== base && !json)) return error(404, 'not found');
    const f = r.fields as Record<string, string>;
    for (const k of ['From', 'CallerId', 'Url']) if (!f[k]) return error(400, `${k} is required`);
    const sid = randomHex(32);
    calls.push({
      sid,
      from: f.From!,
      callerId: f.CallerId!,
      url: f.Url!,
      callType: f.CallType ?? '',
      statusCallback: f.StatusCallback ?? '',
      customField: f.CustomField ?? '',
      request: r,
    });
    const call = { Sid: sid, AccountSid: opts.accountSid, From: f.From, PhoneNumberSid: f.CallerId, Status: 'in-progress', Direction: 'outbound-api' };
    if (json) return { status: 200, body: { Call: call } };
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<TwilioResponse><Call>${Object.entries(call)
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('')}</Call></TwilioResponse>`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml };
  }, opts.override);

  return {
    ...server,
    calls,
    tooManyRequests: (retryAfterS: number) => error(429, 'Too many requests', { 'Retry-After': String(retryAfterS) }),
    /** End a call: POST its terminal StatusCallback (to `url`, by default the one Exotel was given). */
    async finish(call: ExotelCall, status: string, durationS = 0, url = call.statusCallback) {
      const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
      return postCallback(url, {
        json: {
          CallSid: call.sid,
          EventType: 'terminal',
          DateCreated: now,
          DateUpdated: now,
          To: null,
          From: call.from,
          PhoneNumberSid: call.callerId,
          StartTime: now,
          EndTime: now,
          Status: status,
          ConversationDuration: durationS,
          Direction: 'outbound-api',
          CustomField: call.customField,
          RecordingUrl: null,
          Legs: [{ OnCallDuration: durationS, Status: status, AnsweredBy: 'NA' }],
        },
      });
    },
  };
}

export type ExotelDouble = Awaited<ReturnType<typeof startExotelDouble>>;
