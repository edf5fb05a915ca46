import type { XmlDialect } from './dialect.js';

/**
 * TwiML (Twilio): https://www.twilio.com/docs/voice/twiml — `<Say voice language>`,
 * `<Gather input numDigits timeout action method [hints language]>` (speech with
 * `input="dtmf speech"`, its transcript posted as `SpeechResult`), `<Redirect method>`, `<Hangup/>`.
 * When a Gather times out Twilio continues with the next verb, the Redirect that re-enters the step.
 */
export const twiml: XmlDialect = {
  format: 'xml',
  voice: { key: 'twiml' },
  root: 'Response',
  say: { tag: 'Say', attrs: (v) => [['language', v.language], ['voice', v.voice]] },
  gather: (g, v) => ({
    tag: 'Gather',
    attrs: [
      ['input', g.speechHints ? 'dtmf speech' : 'dtmf'],
      ['numDigits', g.numDigits],
      ['timeout', g.timeout],
      ['action', g.action],
      ['method', 'POST'],
      ['hints', g.speechHints?.join(', ')],
      ['language', g.speechHints ? v.language : undefined],
    ],
  }),
  redirect: { tag: 'Redirect', attrs: [['method', 'POST']] },
  hangup: { tag: 'Hangup' },
};
