import type { XmlDialect } from './dialect.js';
import { twiml } from './dialect.twiml.js';

/**
 * Telnyx TeXML: TwiML's verbs and attributes
 * (https://developers.telnyx.com/docs/voice/programmable-voice/texml-verbs/gather,
 * …/texml-verbs/say) and TwiML's callback names (CallSid, From, To, Digits, SpeechResult). Its
 * voice is the language file's `voice.texml`, else the TwiML one.
 */
export const texml: XmlDialect = { ...twiml, voice: { key: 'texml', fallback: 'twiml' } };
