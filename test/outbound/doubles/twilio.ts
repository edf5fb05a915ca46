import twilio from 'twilio';
import { postCallback, randomHex, startDouble, type Override, type Recorded, type Reply } from './double.js';

/**
 * A Twilio double on 127.0.0.1, speaking the documented REST and Studio APIs:
 * - Call resource, create: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded,
 *   HTTP Basic `AccountSid:AuthToken`; 201 with the Call JSON (`sid` CA…, `status` queued).
 *   https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
 * - The call's status callback: a form POST to `StatusCallback` with `CallSid`, `CallStatus`,
 *   `CallDuration`, `AccountSid`, `From`, `To`, `Direction`, `ApiVersion`, `SequenceNumber`,
 *   `Timestamp`, `CallbackSource=call-progress-events`, signed with `X-Twilio-Signature`.
 *   https://www.twilio.com/docs/voice/api/call-resource#statuscallback
 *   https://www.twilio.com/docs/usage/webhooks/webhooks-security
 * - Studio Execution: `POST /v2/Flows/{FlowSid}/Executions` (`To`, `From`, `Parameters` as a JSON
 *   string) → 201 `{sid: FN…, status: active}`; `GET /v2/Flows/{FlowSid}/Executions/{Sid}` →
 *   `active` or `ended`. https://www.twilio.com/docs/studio/rest-api/v2/execution
 * - Errors as Twilio's JSON `{code, message, more_info, status}`: 401 code 20003 for bad
 *   credentials, 429 code 20429 with Retry-After. https://www.twilio.com/docs/errors/20429
 * The signature is made with the twilio SDK's own `getExpectedTwilioSignature`, so the service's
 * verifier is checked against Twilio's implementation, not against itself.
 */

/**
 * The fields of a call's status callback, in Twilio's order (the signature covers every one):
 * https://www.twilio.com/docs/voice/api/call-resource#statuscallback. Shared with the pacing
 * benchmark's double (bench/pacingDouble.ts), so both speak the same callback.
 */
export function statusCallbackForm(
  accountSid: string,
  call: { sid: string; from: string; to: string },
  status: string,
  durationS: number,
): [string, string][] {
  return [
    ['AccountSid', accountSid],
    ['ApiVersion', '2010-04-01'],
    ['CallSid', call.sid],
    ['CallStatus', status],
    ['CallDuration', String(durationS)],
    ['CallbackSource', 'call-progress-events'],
    ['Direction', 'outbound-api'],
    ['From', call.from],
    ['To', call.to],
    ['SequenceNumber', '0'],
    ['Timestamp', new Date().toUTCString()],
  ];
}

export interface TwilioCall {
  sid: string;
  to: string;
  from: string;
  url: string;
  statusCallback: string;
  request: Recorded;
}

export interface TwilioExecution {
  sid: string;
  flowSid: string;
  to: string;
  from: string;
  parameters: Record<string, unknown>;
  status: 'active' | 'ended';
}

export async function startTwilioDouble(opts: { accountSid: string; authToken: string; override?: Override }) {
  const calls: TwilioCall[] = [];
  const executions: TwilioExecution[] = [];
  const callsPath = `/2010-04-01/Accounts/${opts.accountSid}/Calls.json`;
  const error = (status: number, code: number, message: string, headers?: Record<string, string>): Reply => ({
    status,
    headers,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });

  const server = await startDouble((r) => {
    if (r.auth !== `${opts.accountSid}:${opts.authToken}`) return error(401, 20003, 'Authenticate');
    const path = r.path.split('?')[0]!;
    if (r.method === 'POST' && path === callsPath) {
      const f = r.fields as Record<string, string>;
      if (!f.To || !f.From || !(f.Url || f.Twiml)) return error(400, 21205, 'Url parameter is required.');
      const sid = `CA${randomHex(32)}`;
      calls.push({ sid, to: f.To, from: f.From, url: f.Url ?? '', statusCallback: f.StatusCallback ?? '', request: r });
      return {
        status: 201,
        body: {
          sid,
          account_sid: opts.accountSid,
          to: f.To,
          from: f.From,
          status: 'queued',
          direction: 'outbound-api',
          api_version: '2010-04-01',
          uri: `/2010-04-01/Accounts/${opts.accountSid}/Calls/${sid}.json`,
        },
      };
    }
    const flow = /^\/v2\/Flows\/(FW[0-9a-f]{32})\/Executions(?:\/(FN[0-9a-f]{32}))?$/.exec(path);
    if (flow && r.method === 'POST' && !flow[2]) {
      const f = r.fields as Record<string, string>;
      if (!f.To || !f.From) return error(400, 20001, 'Missing required parameter To or From');
      const sid = `FN${randomHex(32)}`;
      const e: TwilioExecution = { sid, flowSid: flow[1]!, to: f.To, from: f.From, parameters: f.Parameters ? JSON.parse(f.Parameters) : {}, status: 'active' };
      executions.push(e);
      return { status: 201, body: executionBody(opts.accountSid, e) };
    }
    if (flow && r.method === 'GET' && flow[2]) {
      const e = executions.find((x) => x.sid === flow[2] && x.flowSid === flow[1]);
      return e ? { status: 200, body: executionBody(opts.accountSid, e) } : error(404, 20404, 'The requested resource was not found');
    }
    return error(404, 20404, 'The requested resource was not found');
  }, opts.override);

  return {
    ...server,
    calls,
    executions,
    /** A 429 the way Twilio sends it, for `override`. */
    tooManyRequests: (retryAfterS: number) => error(429, 20429, 'Too Many Requests', { 'Retry-After': String(retryAfterS) }),
    /** End a call: POST its signed status callback; returns the service's reply. */
    async finish(call: TwilioCall, status: string, durationS = 0, sign: 'valid' | 'forged' | 'none' = 'valid') {
      const form = statusCallbackForm(opts.accountSid, call, status, durationS);
      const params = Object.fromEntries(form);
      const token = sign === 'forged' ? `${opts.authToken}x` : opts.authToken;
      const headers: Record<string, string> = sign === 'none' ? {} : { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, call.statusCallback, params) };
      return postCallback(call.statusCallback, { form }, headers);
    },
    end(execution: TwilioExecution) {
      execution.status = 'ended';
    },
  };
}

export type TwilioDouble = Awaited<ReturnType<typeof startTwilioDouble>>;

function executionBody(accountSid: string, e: TwilioExecution) {
  return {
    sid: e.sid,
    account_sid: accountSid,
    flow_sid: e.flowSid,
    contact_channel_address: e.to,
    context: { flow: { data: e.parameters } },
    status: e.status,
    date_created: new Date().toISOString(),
    url: `https://studio.twilio.com/v2/Flows/${e.flowSid}/Executions/${e.sid}`,
  };
}
