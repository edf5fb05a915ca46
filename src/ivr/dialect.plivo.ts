import type { XmlDialect } from './dialect.js';

/**
 * Plivo XML: https://www.plivo.com/docs/voice/xml — `<Speak voice language>`, `<GetDigits action
 * method numDigits timeout retries>` for digits only, `<GetInput action method inputType
 * executionTimeout numDigits hints language>` when speech is accepted too (the transcript is posted
 * as `Speech`), `<Redirect method>`, `<Hangup/>`. Like TwiML, a gather that times out moves on to
 * the next element.
 */
export const plivo: XmlDialect = {
  format: 'xml',
  voice: { key: 'plivo' },
  root: 'Response',
  say: { tag: 'Speak', attrs: (v) => [['language', v.language], ['voice', v.voice]] },
  gather: (g, v) =>
    g.speechHints
      ? {
          tag: 'GetInput',
          attrs: [
            ['action', g.action],
            ['method', 'POST'],
            ['inputType', 'dtmf speech'],
            ['executionTimeout', g.timeout],
            ['numDigits', g.numDigits],
            ['hints', g.speechHints.join(', ')],
            ['language', v.language],
          ],
        }
      : {
          tag: 'GetDigits',
          attrs: [
            ['action', g.action],
            ['method', 'POST'],
            ['numDigits', g.numDigits],
            ['timeout', g.timeout],
            ['retries', 1],
          ],
        },
  redirect: { tag: 'Redirect', attrs: [['method', 'POST']] },
  hangup: { tag: 'Hangup' },
};
