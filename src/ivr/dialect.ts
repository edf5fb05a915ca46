import type { Attrs } from './xml.writer.js';
import type { GatherVerb, IvrReply, Voice } from './ivr.reply.js';

/**
 * What a dialect is, as data (docs/http.md §4, §10). An XML dialect is a verb table: the element
 * and attributes of each verb of the reply model; the one renderer (render.ts) walks the reply
 * with it. A text dialect (Exotel) speaks plain text and answers with a status of its choosing.
 * Adding a platform is adding one table (a dialect.*.ts file) and listing it in dialects.ts.
 */

export interface XmlDialect {
  format: 'xml';
  /** Which voice of a language file (ivr/*.json `voice`) speaks, and the one used when it has none. */
  voice: { key: string; fallback?: string };
  root: string;
  say: { tag: string; attrs(voice: Voice): Attrs };
  /** The gathering verb; `gather.speechHints` says whether speech is accepted too. */
  gather(g: GatherVerb, voice: Voice): { tag: string; attrs: Attrs };
  redirect: { tag: string; attrs: Attrs };
  hangup: { tag: string };
}

export interface TextDialect {
  format: 'text';
  /** The HTTP status of a reply (the platform branches on it). */
  status(reply: IvrReply): number;
}

export type DialectTable = XmlDialect | TextDialect;
