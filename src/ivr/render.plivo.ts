import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { IvrReply, SayVerb, Voice } from './ivr.reply.js';

/**
 * Plivo XML: `<Response>` with `<Speak>`, `<GetDigits>`, `<Redirect>`, `<Hangup/>`. When
 * GetDigits times out Plivo continues with the next element, so a `<Redirect>` after it re-enters
 * the menu as "no input". Text is escaped by xmlbuilder2.
 */
function speakEl(parent: XMLBuilder, v: SayVerb, voice: Voice): void {
  parent.ele('Speak', { language: voice.language, ...(voice.voice ? { voice: voice.voice } : {}) }).txt(v.text);
}

export function renderPlivo(reply: IvrReply): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const root = doc.ele('Response');
  for (const v of reply.verbs) {
    switch (v.kind) {
      case 'say':
        speakEl(root, v, reply.voice);
        break;
      case 'gather': {
        const g = root.ele('GetDigits', {
          action: v.action,
          method: 'POST',
          numDigits: String(v.numDigits),
          timeout: String(v.timeout),
          retries: '1',
        });
        for (const p of v.prompts) speakEl(g, p, reply.voice);
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
