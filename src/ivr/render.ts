import type { Dialect, IvrReply } from './ivr.reply.js';
import { renderPlivo } from './render.plivo.js';
import { renderTwiml } from './render.twiml.js';

/** One renderer per dialect; adding a platform is adding an entry. */
const RENDERERS: Record<Dialect, (reply: IvrReply) => string> = {
  twiml: renderTwiml,
  plivo: renderPlivo,
};

export function renderReply(dialect: Dialect, reply: IvrReply): string {
  return RENDERERS[dialect](reply);
}
