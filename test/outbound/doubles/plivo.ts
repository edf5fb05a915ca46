import { createHmac, randomUUID } from 'node:crypto';
import { postCallback, startDouble, type Override, type Recorded, type Reply } from './double.js';

/**
 * A Plivo double on 127.0.0.1, speaking the documented Voice API:
 * - Make a call: `POST /v1/Account/{auth_id}/Call/`, JSON, HTTP Basic `auth_id:auth_token`, with
 *   `from`, `to`, `answer_url` (required) and `answer_method`, `hangup_url`, `hangup_method`;
 *   201 `{api_id, message: "call fired", request_uuid}`.
 *   https://www.plivo.com/docs/voice/api/call/make-a-call
 * - Errors: JSON `{api_id, error}`; 401 for bad credentials, 400 for a missing parameter, 429
 *   "too many requests" with Retry-After. https://www.plivo.com/docs/voice/api/response
 * - The hangup callback: a form POST to `hangup_url` with `CallUUID`, `RequestUUID`, `CallStatus`
 *   (completed, busy, no-answer, failed, timeout, cancel), `Duration`, `BillDuration`,
 *   `HangupCause`, `HangupCauseCode`, `HangupSource`, `From`, `To`, `Direction`, `Event`.
 *   https://www.plivo.com/docs/voice/xml/request  https://www.plivo.com/docs/voice/xml/request/call-status
 * - Signed with `X-Plivo-Signature-V3` and `X-Plivo-Signature-V3-Nonce` (HMAC-SHA256 over the URL,
 *   its sorted query, the sorted POST parameters and `.nonce`), written here from Plivo's
 *   description and checked against the plivo SDK's `validateV3Signature` in the double's tests.
 *   https://www.plivo.com/docs/voice/concepts/signature-validation
 */

export interface PlivoCall {
  requestUuid: string;
  from: string;
  to: string;
  answerUrl: string;
  hangupUrl: string;
  request: Recorded;
}

export async function startPlivoDouble(opts: { authId: string; authToken: string; override?: Override }) {
  const calls: PlivoCall[] = [];
  const path = `/v1/Account/${opts.authId}/Call/`;
  const error = (status: number, message: string, headers?: Record<string, string>): Reply => ({
    status,
    headers,
    body: { api_id: randomUUID(), error: message },
  });
  const server = await startDouble((r) => {
    if (r.auth !== `${opts.authId}:${opts.authToken}`) return error(401, 'Authentication failed');
    if (r.method !== 'POST' || r.path !== path) return error(404, 'not found');
    if (!r.contentType.startsWith('application/json')) return error(400, 'Content-Type must be application/json');
    const f = r.json as Record<string, string>;
    for (const k of ['from', 'to', 'answer_url']) if (!f[k]) return error(400, `${k} is required`);
    const requestUuid = randomUUID();
    calls.push({ requestUuid, from: f.from!, to: f.to!, answerUrl: f.answer_url!, hangupUrl: f.hangup_url ?? '', request: r });
    return { status: 201, body: { api_id: randomUUID(), message: 'call fired', request_uuid: requestUuid } };
  }, opts.override);

  return {
    ...server,
    calls,
    tooManyRequests: (retryAfterS: number) => error(429, 'too many requests', { 'Retry-After': String(retryAfterS) }),
    /** Hang a call up: POST its signed hangup callback; returns the service's reply. */
    async finish(call: PlivoCall, status: string, durationS = 0, sign: 'valid' | 'forged' | 'none' = 'valid') {
      const form: [string, string][] = [
        ['CallUUID', randomUUID()],
        ['RequestUUID', call.requestUuid],
        ['ALegRequestUUID', call.requestUuid],
        ['CallStatus', status],
        ['Direction', 'outbound'],
        ['Duration', String(durationS)],
        ['BillDuration', String(durationS === 0 ? 0 : Math.ceil(durationS / 60) * 60)],
        ['Event', 'Hangup'],
        ['From', call.from],
        ['To', call.to],
        ['HangupCause', status === 'completed' ? 'NORMAL_CLEARING' : status === 'busy' ? 'USER_BUSY' : 'NO_ANSWER'],
        ['HangupCauseCode', status === 'completed' ? '4000' : '3000'],
        ['HangupSource', 'Callee'],
      ];
      const nonce = String(Math.floor(Math.random() * 1e16));
      const token = sign === 'forged' ? `${opts.authToken}x` : opts.authToken;
      const headers: Record<string, string> = sign === 'none' ? {} : { 'X-Plivo-Signature-V3': plivoV3(token, call.hangupUrl, form, nonce), 'X-Plivo-Signature-V3-Nonce': nonce };
      return postCallback(call.hangupUrl, { form }, headers);
    },
  };
}

export type PlivoDouble = Awaited<ReturnType<typeof startPlivoDouble>>;

/** Plivo's V3 signature of a POST to `url` with `form`. */
export function plivoV3(authToken: string, url: string, form: [string, string][], nonce: string): string {
  const u = new URL(url);
  const sort = (pairs: [string, string][]) => [...pairs].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
  const query = sort([...u.searchParams.entries()]).map(([k, v]) => `${k}=${v}`).join('&');
  let base = `${u.protocol}//${u.host}${u.pathname}`;
  if (query || form.length > 0) base += `?${query}`;
  if (query && form.length > 0) base += '.';
  base += sort(form).map(([k, v]) => k + v).join('');
  return createHmac('sha256', authToken).update(`${base}.${nonce}`).digest('base64');
}
