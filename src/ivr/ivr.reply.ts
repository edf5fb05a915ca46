/**
 * The dialect-neutral IVR reply: what the caller hears and what happens next. The flow builds one
 * of these; the renderer (render.ts) turns it into a platform's reply with that platform's verb
 * table (dialect.*.ts). Keeping the model free of XML means every spoken value is escaped in
 * exactly one place (xml.writer.ts).
 */

export interface SayVerb {
  kind: 'say';
  text: string;
}

export interface GatherVerb {
  kind: 'gather';
  /** Where the platform posts the pressed digit (or the recognised speech). */
  action: string;
  numDigits: number;
  /** Seconds to wait for input; on timeout the platform moves on to the next verb. */
  timeout: number;
  prompts: SayVerb[];
  /** Also listen for speech, with these words as recognition hints (docs/http.md §10). */
  speechHints?: string[];
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
  /** Voice of every spoken verb in this reply (from the language pack, for the dialect). */
  voice: Voice;
  verbs: IvrVerb[];
  /**
   * The agent's state once this reply is given, when the call reached an agent and nothing was
   * refused: Exotel's Passthru branches on it (docs/http.md §10).
   */
  onBreak?: boolean;
}

export const say = (text: string): SayVerb => ({ kind: 'say', text });
export const hangup = (): HangupVerb => ({ kind: 'hangup' });
