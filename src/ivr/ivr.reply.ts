/**
 * The dialect-neutral IVR reply: what the caller hears and what happens next. The handler builds
 * one of these; a renderer per dialect (twiml, plivo) turns it into that platform's XML. Keeping
 * the model free of XML means every spoken value is escaped in exactly one place (xmlbuilder2).
 */

export interface SayVerb {
  kind: 'say';
  text: string;
}

export interface GatherVerb {
  kind: 'gather';
  /** Where the platform posts the pressed digit. */
  action: string;
  numDigits: number;
  /** Seconds to wait for input; on timeout the platform moves on to the next verb. */
  timeout: number;
  prompts: SayVerb[];
}

export interface RedirectVerb {
  kind: 'redirect';
  url: string;
}

export interface HangupVerb {
  kind: 'hangup';
}

export type IvrVerb = SayVerb | GatherVerb | RedirectVerb | HangupVerb;

export interface Voice {
  language: string;
  voice?: string;
}

export interface IvrReply {
  /** Voice of every spoken verb in this reply (from the language pack for the dialect). */
  voice: Voice;
  verbs: IvrVerb[];
}

export type Dialect = 'twiml' | 'plivo';
export const DIALECTS: readonly Dialect[] = ['twiml', 'plivo'];

export const say = (text: string): SayVerb => ({ kind: 'say', text });
export const hangup = (): HangupVerb => ({ kind: 'hangup' });
