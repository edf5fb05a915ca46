import { createRequire } from 'node:module';
import type Twilio from 'twilio';
import type { CallOutcome, Dialer, DialOutcome, DialRequest, PollResult } from './dialer.js';
import { describeFailure, retryAfterMs, withKeys } from './platformFetch.js';

/**
 * Twilio (DIALER=twilio; docs/http.md §9), through the official `twilio` SDK. A flow whose target
 * is a Studio Flow SID (`FW…`) starts an Execution (`POST /v2/Flows/{FW…}/Executions` with `To`,
 * `From` and the contact's keys as the `Parameters` JSON string); an answer URL places a Call
 * (`POST /2010-04-01/Accounts/{sid}/Calls.json` with `To`, `From`, `Url` carrying the keys in its
 * query, and a `StatusCallback` for the `completed` event). An Execution has no status callback:
 * its outcome is read back with `GET /v2/Flows/{FW…}/Executions/{FN…}` until it has `ended`.
 *
 * The SDK's hosts are fixed (api.twilio.com, studio.twilio.com); `TWILIO_API_URL` replaces the
 * scheme, host and port of both through the SDK's own `httpClient` option, keeping the paths, so a
 * regional edge or the local test double gets exactly the requests Twilio would.
 */

type Failure = Extract<DialOutcome, { error: string }>;

type TwilioSdk = typeof Twilio;
const requireCjs = createRequire(import.meta.url);
let loadedSdk: TwilioSdk | undefined;
/**
 * The `twilio` SDK (a CommonJS package) is loaded when the first TwilioDialer is made, not when
 * this module is imported: it takes about 400 ms, and a service whose `DIALER` is not `twilio`
 * never pays it (docs/http.md §9).
 */
function twilioSdk(): TwilioSdk {
  return (loadedSdk ??= requireCjs('twilio') as TwilioSdk);
}

export const STUDIO_FLOW_SID = /^FW[0-9a-fA-F]{32}$/;

/** Twilio's SDK sees a 429 as an error without its headers; this carries the Retry-After out. */
class Throttled extends Error {
  constructor(readonly retryAfterMs: number) {
    super('throttled');
  }
}

/** The SDK's own RequestClient, pointed at another origin and reporting 429 with its Retry-After. */
function rebasedRequestClient(origin: string | undefined, timeoutMs: number): Twilio.RequestClient {
  const client = new (twilioSdk().RequestClient)({ timeout: timeoutMs, autoRetry: false });
  const send = client.request.bind(client);
  client.request = (async (opts: Parameters<typeof send>[0]) => {
    let uri = opts.uri;
    if (origin) {
      const u = new URL(uri);
      uri = origin + u.pathname + u.search;
    }
    const res = await send({ ...opts, uri });
    if (res.statusCode === 429) {
      const h = res.headers as Record<string, string | undefined>;
      throw new Throttled(retryAfterMs(h['retry-after'] ?? h['Retry-After']));
    }
    return res;
  }) as typeof send;
  return client;
}

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_URL: replaces https://api.twilio.com and https://studio.twilio.com. */
  apiUrl?: string;
  timeoutMs: number;
}

export class TwilioDialer implements Dialer {
  private readonly client: Twilio.Twilio;

  constructor(private readonly settings: TwilioSettings) {
    const origin = settings.apiUrl ? new URL(settings.apiUrl).origin : undefined;
    this.client = twilioSdk()(settings.accountSid, settings.authToken, {
      httpClient: rebasedRequestClient(origin, settings.timeoutMs),
      autoRetry: false,
    });
    // The SDK loads each API's modules on first use (about 100 ms): load them now, not during the
    // first call of a campaign, where the event loop would stall with the call's slot taken.
    void this.client.calls;
    void this.client.studio.v2.flows;
  }

  async dial(request: DialRequest, stop?: AbortSignal): Promise<DialOutcome> {
    const { target, callerId } = request;
    if (!target) return { kind: 'failed', error: `flow ${request.flowID} has no Twilio target (a Studio Flow SID or an answer URL)` };
    if (!callerId) return { kind: 'failed', error: `client ${request.clientID} has no callerId` };
    if (STUDIO_FLOW_SID.test(target)) {
      const execution = await this.run(stop, () =>
        this.client.studio.v2.flows(target).executions.create({ to: request.number, from: callerId, parameters: JSON.stringify(request.keys) }),
      );
      return 'error' in execution ? execution : { kind: 'dispatched', callId: execution.sid, awaits: 'poll' };
    }
    if (!request.statusCallbackUrl) return { kind: 'failed', error: 'no status callback URL (PUBLIC_BASE_URL)' };
    const statusCallback = request.statusCallbackUrl;
    const call = await this.run(stop, () =>
      this.client.calls.create({
        to: request.number,
        from: callerId,
        url: withKeys(target, request.keys),
        method: 'POST',
        statusCallback,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['completed'],
      }),
    );
    return 'error' in call ? call : { kind: 'dispatched', callId: call.sid, awaits: 'callback' };
  }

  async poll(target: string, callId: string, stop?: AbortSignal): Promise<PollResult> {
    const execution = await this.run(stop, () => this.client.studio.v2.flows(target).executions(callId).fetch());
    if ('error' in execution) return { kind: 'retry', error: execution.error };
    // An Execution that has ended is the flow having run to its end: `completed` (§9).
    return execution.status === 'ended' ? { kind: 'ended', outcome: 'completed' } : { kind: 'active' };
  }

  /** Run one SDK call; map its errors to outcomes, and give up waiting when the service stops. */
  private async run<T extends object>(stop: AbortSignal | undefined, call: () => Promise<T>): Promise<T | Failure> {
    let onStop: (() => void) | undefined;
    const stopped = new Promise<Failure>((resolve) => {
      onStop = () => resolve({ kind: 'retry', error: 'dispatch interrupted by shutdown before the dialer answered' });
      if (stop?.aborted) onStop();
      stop?.addEventListener('abort', onStop, { once: true });
    });
    try {
      return await Promise.race([call().catch((e: unknown) => this.outcomeOf(e)), stopped]);
    } finally {
      if (onStop) stop?.removeEventListener('abort', onStop);
    }
  }

  private outcomeOf(e: unknown): Failure {
    if (e instanceof Throttled) return { kind: 'throttled', retryAfterMs: e.retryAfterMs, error: 'twilio answered HTTP 429' };
    if (e instanceof twilioSdk().RestException) {
      const code = typeof e.code === 'number' ? ` (code ${e.code})` : '';
      if (e.status >= 500) return { kind: 'retry', error: `twilio answered HTTP ${e.status}${code}` };
      return { kind: 'failed', error: `twilio refused with HTTP ${e.status}${code}` };
    }
    const err = e as { code?: string; name?: string };
    if (err?.code === 'ECONNABORTED' || err?.code === 'ETIMEDOUT') return { kind: 'retry', error: `twilio did not answer within ${this.settings.timeoutMs} ms` };
    return { kind: 'retry', error: describeFailure('twilio', e, this.settings.timeoutMs) };
  }
}

/** Twilio's `CallStatus` values that end a call, as outcomes; others (ringing, in-progress…) are not final. */
export function twilioOutcome(callStatus: string | undefined): CallOutcome | undefined {
  switch (callStatus) {
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return callStatus;
    default:
      return undefined;
  }
}
