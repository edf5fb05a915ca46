import type { TextDialect } from './dialect.js';

/**
 * Exotel Passthru (https://support.exotel.com/support/solutions/articles/48192-passthru-applet):
 * Exotel reads only the status of the reply: 200 takes the flow's first branch, 302 the second.
 * The body is the spoken text (`text/plain`), which Exotel's Greeting applet fetches separately
 * from `/ivr/{stage}/exotel/say` (docs/http.md §10). 200 when the agent is now on break; 302 when
 * available, unregistered or refused (the text says which).
 */
export const exotel: TextDialect = {
  format: 'text',
  status: (reply) => (reply.onBreak === true ? 200 : 302),
};
