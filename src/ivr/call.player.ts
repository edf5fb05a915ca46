import { XMLParser } from 'fast-xml-parser';

/**
 * Plays a call against the IVR the way a platform does: post the call's parameters, read the
 * XML, speak `Say`/`Speak`, at a `Gather`/`GetDigits` post the next digit to its action URL (or,
 * with no digit left, move on as a timeout does), follow `Redirect`, stop at `Hangup` or at the
 * end of the document. Used by `npm run call` and by the tests' `simulateCall`, with the HTTP
 * transport passed in.
 */

export type Dialect = 'twiml' | 'plivo';

export interface CallRequest {
  method: 'GET' | 'POST';
  /** Path + query, or an absolute URL from an action attribute. */
  url: string;
  /** Form fields for POST; for GET they go into the query. */
  form: Record<string, string>;
}

export interface CallResponse {
  status: number;
  body: string;
}

export type Transport = (req: CallRequest) => Promise<CallResponse>;

export interface PlayOptions {
  /** The first URL the platform calls, e.g. `/ivr/test/inbound?dialect=plivo`. */
  url: string;
  dialect: Dialect;
  cli: string;
  did?: string;
  callId: string;
  /** Digits to press, one per prompt, in order. */
  digits?: string[];
  /** Send the first request as a GET with the call in the query (Exotel style). */
  get?: boolean;
  /** Safety bound against a reply that loops. */
  maxRequests?: number;
}

export interface Turn {
  request: CallRequest;
  status: number;
  xml: string;
  /** What the caller heard in this turn. */
  heard: string[];
}

export interface PlayedCall {
  heard: string[];
  turns: Turn[];
  hungUp: boolean;
  /** Digits that were never asked for. */
  unusedDigits: string[];
}

const VERBS = {
  twiml: { say: 'Say', gather: 'Gather' },
  plivo: { say: 'Speak', gather: 'GetDigits' },
} as const;

type Node = Record<string, unknown>;
const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: true });

function tagOf(n: Node): string | undefined {
  return Object.keys(n).find((k) => k !== ':@');
}

function textOf(n: Node, tag: string): string {
  const children = (n[tag] as Node[]) ?? [];
  return children.map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join('');
}

function attrs(n: Node): Record<string, string> {
  return (n[':@'] as Record<string, string>) ?? {};
}

/** The platform's form fields for a call in the given dialect. */
export function callForm(dialect: Dialect, o: { cli: string; did: string; callId: string }): Record<string, string> {
  return dialect === 'plivo'
    ? { CallUUID: o.callId, From: o.cli.replace(/^\+/, ''), To: o.did.replace(/^\+/, ''), CallStatus: 'in-progress', Direction: 'inbound' }
    : { CallSid: o.callId, AccountSid: 'AC00000000000000000000000000000000', From: o.cli, To: o.did, CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01' };
}

export async function playCall(send: Transport, o: PlayOptions): Promise<PlayedCall> {
  const verbs = VERBS[o.dialect];
  const digits = [...(o.digits ?? [])];
  const base = callForm(o.dialect, { cli: o.cli, did: o.did ?? '+918000000000', callId: o.callId });
  const turns: Turn[] = [];
  const heard: string[] = [];
  let next: CallRequest | undefined = { method: o.get ? 'GET' : 'POST', url: o.url, form: base };
  let hungUp = false;
  const max = o.maxRequests ?? 20;

  while (next && turns.length < max) {
    const request: CallRequest = next;
    next = undefined;
    const res = await send(request);
    const turn: Turn = { request, status: res.status, xml: res.body, heard: [] };
    turns.push(turn);
    if (res.status !== 200) break;
    const doc = parser.parse(res.body) as Node[];
    const response = doc.find((n) => tagOf(n) === 'Response');
    const children = (response?.Response as Node[]) ?? [];
    for (const child of children) {
      const tag = tagOf(child);
      if (tag === verbs.say) {
        turn.heard.push(textOf(child, tag));
      } else if (tag === verbs.gather) {
        for (const p of (child[tag] as Node[]) ?? []) if (tagOf(p) === verbs.say) turn.heard.push(textOf(p, verbs.say));
        const digit = digits.shift();
        if (digit !== undefined) {
          next = { method: 'POST', url: attrs(child).action ?? request.url, form: { ...base, Digits: digit } };
          break;
        }
      } else if (tag === 'Redirect') {
        next = { method: 'POST', url: textOf(child, tag), form: base };
        break;
      } else if (tag === 'Hangup') {
        hungUp = true;
        break;
      }
    }
    heard.push(...turn.heard);
  }
  return { heard, turns, hungUp, unusedDigits: digits };
}
