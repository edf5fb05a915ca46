import { iso } from '../clock.js';
import type { Config } from '../config.js';
import type { Params } from '../http/params.js';
import type { WebhookMethod } from '../webhook/registry.js';
import { REASON_MAX, type PauseOutcome, type PauseService } from './pause.service.js';

/** Reply of docs/http.md §2.1, shared by the webhook method and the admin pause route. */
export function pauseUpdateReply(o: PauseOutcome) {
  return {
    cli_pause_update: true,
    cli: o.agent.cli,
    pause: o.agent.pause,
    changed: o.changed,
    since: o.agent.since === null ? null : iso(o.agent.since),
  };
}

export const PAUSE_UPDATE_FAILURE = { cli_pause_update: false };

/**
 * An optional reason: absent, JSON null or an empty/blank value all mean "no reason" (flows often
 * send an unset variable as an empty string); otherwise 1–64 characters, checked by the service.
 */
export function optionalReason(params: Params): string | undefined {
  const r = params.string('reason', { max: REASON_MAX });
  return r === undefined || r.trim() === '' ? undefined : r.trim();
}

/** `updatePauseStatusForCLI` and `getPauseStatusForCLI` (docs/http.md §2.1, 2.2). */
export function pauseMethods(service: PauseService, config: Config): WebhookMethod[] {
  return [
    {
      name: 'updatePauseStatusForCLI',
      failure: PAUSE_UPDATE_FAILURE,
      async handle({ stage, params }) {
        const cli = params.requirePhone('cli', config.DEFAULT_REGION);
        const pause = params.requireBool('pause');
        const reason = optionalReason(params);
        const outcome = await service.changePause({ stage, cli, pause, reason, source: 'webhook' });
        return { body: pauseUpdateReply(outcome) };
      },
    },
    {
      name: 'getPauseStatusForCLI',
      failure: {},
      async handle({ stage, params }) {
        const cli = params.requirePhone('cli', config.DEFAULT_REGION);
        const a = await service.requireAgent(stage, cli);
        return { body: { cli: a.cli, name: a.name, pause: a.pause, reason: a.reason, since: a.since === null ? null : iso(a.since) } };
      },
    },
  ];
}
