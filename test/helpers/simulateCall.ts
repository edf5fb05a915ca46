import supertest from 'supertest';
import type { Express } from 'express';
import { playCall, type CallRequest, type Dialect, type PlayedCall } from '../../src/ivr/call.player.js';

export interface SimulateOptions {
  cli: string;
  did?: string;
  /** Defaults to a fresh id per call. */
  callId?: string;
  dialect?: Dialect;
  /** Inputs at successive prompts: digits, or `said:<words>` for speech. */
  digits?: string[];
  /** First URL; default `/ivr/test/inbound` with `?dialect=` when a dialect is given. */
  url?: string;
  get?: boolean;
  headers?: Record<string, string>;
}

let calls = 0;

/** A call as the platform would place it (see src/ivr/call.player.ts), against the in-process app. */
export function simulateCall(http: Express, o: SimulateOptions): Promise<PlayedCall> {
  const dialect = o.dialect ?? 'twiml';
  const url = o.url ?? `/ivr/test/inbound${o.dialect ? `?dialect=${o.dialect}` : ''}`;
  const agent = supertest(http);
  const send = async (r: CallRequest) => {
    const path = r.url.replace(/^https?:\/\/[^/]+/, '');
    const res =
      r.method === 'POST'
        ? await agent.post(path).type('form').set(o.headers ?? {}).send(r.form)
        : await (r.method === 'HEAD' ? agent.head(path) : agent.get(path)).query(r.form).set(o.headers ?? {});
    return { status: res.status, body: res.text ?? '', headers: res.headers as Record<string, string> };
  };
  calls++;
  return playCall(send, {
    url,
    dialect,
    cli: o.cli,
    did: o.did,
    callId: o.callId ?? `CA${process.pid}x${calls}x${Math.random().toString(36).slice(2, 10)}`,
    digits: o.digits,
    get: o.get,
  });
}
