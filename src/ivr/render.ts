import type { Dialect } from './dialects.js';
import { DIALECT_TABLES } from './dialects.js';
import type { XmlDialect } from './dialect.js';
import type { IvrReply } from './ivr.reply.js';
import { XML_DECLARATION, element, text, xmlChars } from './xml.writer.js';

/**
 * The one renderer (docs/http.md §4, §10): a reply model in, the platform's reply out, driven by
 * the dialect's table. XML dialects get `<?xml …?>` + the root with one element per verb; a text
 * dialect gets the spoken sentences as plain text with the status its table picks.
 */

export interface RenderedReply {
  status: number;
  contentType: string;
  body: string;
}

function renderXml(t: XmlDialect, reply: IvrReply): string {
  const say = (s: string) => element(t.say.tag, t.say.attrs(reply.voice), text(s));
  let body = '';
  for (const v of reply.verbs) {
    switch (v.kind) {
      case 'say':
        body += say(v.text);
        break;
      case 'gather': {
        const g = t.gather(v, reply.voice);
        body += element(g.tag, g.attrs, v.prompts.map((p) => say(p.text)).join(''));
        break;
      }
      case 'redirect':
        body += element(t.redirect.tag, t.redirect.attrs, text(v.url));
        break;
      case 'hangup':
        body += element(t.hangup.tag, []);
        break;
    }
  }
  return XML_DECLARATION + element(t.root, [], body);
}

/** What the reply speaks, as one line of text (Exotel's Greeting, `/ivr/{stage}/exotel/say`). */
export function spokenText(reply: Pick<IvrReply, 'verbs'>): string {
  const parts: string[] = [];
  for (const v of reply.verbs) {
    if (v.kind === 'say') parts.push(v.text);
    else if (v.kind === 'gather') parts.push(...v.prompts.map((p) => p.text));
  }
  return xmlChars(parts.join(' ')).replace(/[\r\n]+/g, ' ');
}

export function contentTypeOf(dialect: Dialect): string {
  return DIALECT_TABLES[dialect].format === 'text' ? 'text/plain; charset=utf-8' : 'application/xml; charset=utf-8';
}

export function renderReply(dialect: Dialect, reply: IvrReply): RenderedReply {
  const t = DIALECT_TABLES[dialect];
  const contentType = contentTypeOf(dialect);
  if (t.format === 'text') return { status: t.status(reply), contentType, body: spokenText(reply) };
  return { status: 200, contentType, body: renderXml(t, reply) };
}
