import type { AppDeps } from '../deps.js';
import { AppError } from '../http/errors.js';
import type { PauseService } from '../pause/pause.service.js';
import type { BreaksService } from './breaks.service.js';
import { isOverLimit } from './report.js';

/**
 * Break timers (docs/http.md §11). A sweep finds agents on break past their limit. With
 * AUTO_RESUME=true the agent is made available again through the pause service with source
 * "auto", and only the sweep whose change committed logs "break over its limit" (once per
 * cluster); without AUTO_RESUME (or while the resume is refused) each instance logs such a break
 * once. Exactly once, also across restarts and against a racing change: the change runs only if,
 * inside its transaction, the agent is still on the very break that was found (same `since` and
 * reason: the store's `onlyIf`); otherwise it is abandoned. State lives in the database, so a
 * restart's first sweep resumes breaks that ran out while the service was down.
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
      const over = { stage: a.stage, cli: a.cli, reason: a.reason, limitMinutes: breaks.limitFor(a.reason) };
      // Without AUTO_RESUME the break stays over its limit: each instance logs it once.
      const announce = () => {
        if (announced.has(key)) return;
        announced.add(key);
        logger.warn(over, 'break over its limit');
      };
      if (!config.AUTO_RESUME) {
        announce();
        continue;
      }
      try {
        const result = await pause.changePauseWith(
          { stage: a.stage, cli: a.cli, pause: false, source: 'auto' },
          { onlyIf: (cur) => cur.pause && cur.since === a.since && cur.reason === a.reason },
        );
        // Only the sweep whose resume committed logs it, so a cluster logs each break once (an
        // instance that already logged it while its resume was refused does not log it again).
        if (result.kind === 'applied' && result.changed) {
          resumed++;
          if (!announced.has(key)) logger.warn({ ...over, autoResumed: true }, 'break over its limit');
          announced.add(key);
        }
      } catch (e) {
        // Deleted meanwhile, or the per-agent limit: the next sweep looks again.
        announce();
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
