import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { IvrReply, SayVerb, Voice } from './ivr.reply.js';

/**
 * TwiML (Twilio, Telnyx TeXML): `<Response>` with `<Say>`, `<Gather input="dtmf">`, `<Redirect>`,
 * `<Hangup/>`. Text goes through xmlbuilder2, which escapes it; characters XML cannot carry are
 * dropped rather than written raw.
 */
function sayEl(parent: XMLBuilder, v: SayVerb, voice: Voice): void {
  parent.ele('Say', { language: voice.language, ...(voice.voice ? { voice: voice.voice } : {}) }).txt(v.text);
}

export function renderTwiml(reply: IvrReply): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const root = doc.ele('Response');
  for (const v of reply.verbs) {
    switch (v.kind) {
      case 'say':
        sayEl(root, v, reply.voice);
        break;
      case 'gather': {
        const g = root.ele('Gather', {
          input: 'dtmf',
          numDigits: String(v.numDigits),
          timeout: String(v.timeout),
          action: v.action,
          method: 'POST',
        });
        for (const p of v.prompts) sayEl(g, p, reply.voice);
        break;
      }
      case 'redirect':
        root.ele('Redirect', { method: 'POST' }).txt(v.url);
        break;
      case 'hangup':
        root.ele('Hangup');
        break;
    }
  }
  return doc.end({ headless: false });
}
