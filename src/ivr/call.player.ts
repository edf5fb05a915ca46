import { XMLParser } from 'fast-xml-parser';

/**
 * Plays a call against the IVR the way a platform does (docs/http.md §4, §10). Used by
 * `npm run call` and by the tests' `simulateCall`, with the HTTP transport passed in.
 *
 * - XML platforms (Twilio, Telnyx TeXML, Plivo): post the call's parameters, read the XML, speak
 *   `Say`/`Speak`, at a `Gather`/`GetDigits`/`GetInput` post the next input to its action URL (or,
 *   with none left, move on as a timeout does), follow `Redirect`, stop at `Hangup` or at the end.
 * - Exotel: a Passthru applet GETs the URL with the call in the query and reads only the status
 *   (200 → first branch, 302 → second; anything else is the flow's error path); each branch is a
 *   Greeting applet that sends HEAD and then GET to the say URL and speaks the text/plain body,
 *   then a Hangup applet. The Passthru body is never heard.
 */

export type Dialect = 'twiml' | 'texml' | 'plivo' | 'exotel';
export const PLAYER_DIALECTS: readonly Dialect[] = ['twiml', 'texml', 'plivo', 'exotel'];

export interface CallRequest {
  method: 'GET' | 'POST' | 'HEAD';
  /** Path + query, or an absolute URL from an action attribute. */
  url: string;
  /** Form fields for POST; for GET and HEAD they go into the query. */
  form: Record<string, string>;
}

export interface CallResponse {
  status: number;
  body: string;
  /** Response headers, lower-case names (HEAD/GET agreement for Exotel's Greeting). */
  headers?: Record<string, string>;
}

export type Transport = (req: CallRequest) => Promise<CallResponse>;

export interface PlayOptions {
  /** The first URL the platform calls, e.g. `/ivr/test/inbound?dialect=plivo`. */
  url: string;
  dialect: Dialect;
  cli: string;
  did?: string;
  callId: string;
  /** Inputs at successive prompts, in order: a digit, or `said:<words>` for speech. */
  digits?: string[];
  /** Send the first request as a GET with the call in the query. */
  get?: boolean;
  /** Exotel: the Greeting applets' text URL; default the first URL's `…/exotel/say`. */
  sayUrl?: string;
  /** Safety bound against a reply that loops. */
  maxRequests?: number;
}

export interface Turn {
  request: CallRequest;
  status: number;
  /** The reply body (XML, or Exotel's text). */
  xml: string;
  headers: Record<string, string>;
  /** What the caller heard in this turn. */
  heard: string[];
}

export interface PlayedCall {
  heard: string[];
  turns: Turn[];
  hungUp: boolean;
  /** Inputs that were never asked for. */
  unusedDigits: string[];
  /** Exotel: the Passthru branch taken (1 for 200, 2 for 302). */
  branch?: 1 | 2;
}

interface XmlPlatform {
  say: string;
  gathers: readonly string[];
  speechField: string;
}

const XML_PLATFORMS: Record<Exclude<Dialect, 'exotel'>, XmlPlatform> = {
  twiml: { say: 'Say', gathers: ['Gather'], speechField: 'SpeechResult' },
  texml: { say: 'Say', gathers: ['Gather'], speechField: 'SpeechResult' },
  plivo: { say: 'Speak', gathers: ['GetDigits', 'GetInput'], speechField: 'Speech' },
};

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

const national = (n: string) => n.replace(/^\+91/, '0').replace(/^\+/, '');

/** The platform's form fields for a call in the given dialect (PLATFORMS: the callbacks each platform sends). */
export function callForm(dialect: Dialect, o: { cli: string; did: string; callId: string }): Record<string, string> {
  switch (dialect) {
    case 'plivo':
      return { CallUUID: o.callId, From: o.cli.replace(/^\+/, ''), To: o.did.replace(/^\+/, ''), CallStatus: 'in-progress', Direction: 'inbound' };
    case 'exotel':
      return { CallSid: o.callId, CallFrom: national(o.cli), CallTo: national(o.did), Direction: 'incoming', CallType: 'call-attempt', digits: '""' };
    case 'texml':
      return { CallSid: o.callId, AccountSid: 'f5586561-8ff0-4291-a51b-c7dfe4139ff9', From: o.cli, To: o.did, CallStatus: 'ringing', Direction: 'inbound' };
    default:
      return { CallSid: o.callId, AccountSid: 'AC00000000000000000000000000000000', From: o.cli, To: o.did, CallStatus: 'in-progress', Direction: 'inbound', ApiVersion: '2010-04-01' };
  }
}

/** Exotel's Greeting applet fetching its text: HEAD, then GET, with the call in the query. */
async function exotelGreeting(send: Transport, sayUrl: string, o: PlayOptions, turns: Turn[]): Promise<string | undefined> {
  const form = { CallSid: o.callId, From: national(o.cli), To: national(o.did ?? '+918000000000'), DialWhomNumber: '', CustomField: '' };
  const head = await send({ method: 'HEAD', url: sayUrl, form });
  turns.push({ request: { method: 'HEAD', url: sayUrl, form }, status: head.status, xml: head.body, headers: head.headers ?? {}, heard: [] });
  if (head.status !== 200) return undefined;
  const get = await send({ method: 'GET', url: sayUrl, form });
  const turn: Turn = { request: { method: 'GET', url: sayUrl, form }, status: get.status, xml: get.body, headers: get.headers ?? {}, heard: [] };
  turns.push(turn);
  if (get.status !== 200 || !/^text\/plain\b/.test(get.headers?.['content-type'] ?? 'text/plain')) return undefined;
  turn.heard.push(get.body);
  return get.body;
}

async function playExotel(send: Transport, o: PlayOptions): Promise<PlayedCall> {
  const turns: Turn[] = [];
  const form = callForm('exotel', { cli: o.cli, did: o.did ?? '+918000000000', callId: o.callId });
  const request: CallRequest = { method: 'GET', url: o.url, form };
  const res = await send(request);
  turns.push({ request, status: res.status, xml: res.body, headers: res.headers ?? {}, heard: [] });
  const branch = res.status === 200 ? 1 : res.status === 302 ? 2 : undefined;
  if (branch === undefined) return { heard: [], turns, hungUp: false, unusedDigits: [...(o.digits ?? [])] };
  const sayUrl = o.sayUrl ?? o.url.replace(/\/inbound(\?.*)?$/, '/exotel/say');
  const text = await exotelGreeting(send, sayUrl, o, turns);
  return { heard: text === undefined ? [] : [text], turns, hungUp: text !== undefined, unusedDigits: [...(o.digits ?? [])], branch };
}

export async function playCall(send: Transport, o: PlayOptions): Promise<PlayedCall> {
  if (o.dialect === 'exotel') return playExotel(send, o);
  const platform = XML_PLATFORMS[o.dialect];
  const inputs = [...(o.digits ?? [])];
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
    const turn: Turn = { request, status: res.status, xml: res.body, headers: res.headers ?? {}, heard: [] };
    turns.push(turn);
    if (res.status !== 200) break;
    const doc = parser.parse(res.body) as Node[];
    const response = doc.find((n) => tagOf(n) === 'Response');
    const children = (response?.Response as Node[]) ?? [];
    for (const child of children) {
      const tag = tagOf(child);
      if (tag === platform.say) {
        turn.heard.push(textOf(child, tag));
      } else if (tag && platform.gathers.includes(tag)) {
        for (const p of (child[tag] as Node[]) ?? []) if (tagOf(p) === platform.say) turn.heard.push(textOf(p, platform.say));
        const input = inputs.shift();
        if (input !== undefined) {
          const field = input.startsWith('said:') ? { [platform.speechField]: input.slice(5) } : { Digits: input };
          next = { method: 'POST', url: attrs(child).action ?? request.url, form: { ...base, ...field } };
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
  return { heard, turns, hungUp, unusedDigits: inputs };
}
