import type { AppDeps } from '../deps.js';
import { AppError } from '../http/errors.js';
import type { PauseService } from '../pause/pause.service.js';
import type { BreaksService } from './breaks.service.js';
import { isOverLimit } from './report.js';

/**
 * Break timers. A sweep finds agents on break past their limit; each such break is logged once,
 * and with AUTO_RESUME=true the agent is made available again through the pause service with
 * source "auto". Exactly once, also across restarts and against a racing change: the change runs
 * only if, inside its transaction, the agent is still on the very break that was found (same
 * `since` and reason: the store's `onlyIf`); otherwise it is abandoned. State lives in the database, so a restart's
 * first sweep resumes breaks that ran out while the service was down.
 */

export const SWEEP_EVERY_MS = 1_000;

export function createBreakTimer(deps: AppDeps, breaks: BreaksService, pause: PauseService) {
  const { clock, config, logger } = deps;
  /** Breaks already logged as over their limit, keyed stage:cli:since. */
  const announced = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  async function sweepOnce(): Promise<number> {
    let resumed = 0;
    const now = clock.now();
    const current = new Set<string>();
    for (const a of await breaks.paused()) {
      if (!isOverLimit(a.since, a.reason, now, breaks.limitFor)) continue;
      const key = `${a.stage}:${a.cli}:${a.since}`;
      current.add(key);
      if (!announced.has(key)) {
        announced.add(key);
        logger.warn({ stage: a.stage, cli: a.cli, reason: a.reason, limitMinutes: breaks.limitFor(a.reason) }, 'break over its limit');
      }
      if (!config.AUTO_RESUME) continue;
      try {
        const result = await pause.changePauseWith(
          { stage: a.stage, cli: a.cli, pause: false, source: 'auto' },
          { onlyIf: (cur) => cur.pause && cur.since === a.since && cur.reason === a.reason },
        );
        if (result.kind === 'applied' && result.changed) resumed++;
      } catch (e) {
        // Deleted meanwhile, or the per-agent limit: the next sweep looks again.
        if (!(e instanceof AppError)) logger.error({ errType: (e as Error)?.name, cli: a.cli }, 'auto-resume failed');
      }
    }
    for (const k of announced) if (!current.has(k)) announced.delete(k);
    return resumed;
  }

  /** One pass; returns how many agents were returned to available. Concurrent calls share a pass. */
  function sweep(): Promise<number> {
    sweeping ??= sweepOnce().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  function tick(): void {
    sweep().catch((e: unknown) => logger.error({ errType: (e as Error)?.name }, 'break timer sweep failed'));
  }

  return {
    sweep,
    start(): void {
      if (!breaks.hasLimits || timer) return;
      tick();
      timer = setInterval(tick, SWEEP_EVERY_MS);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweeping;
    },
  };
}

export type BreakTimer = ReturnType<typeof createBreakTimer>;
