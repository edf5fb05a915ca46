import type { AppDeps } from '../deps.js';
import { iso } from '../clock.js';
import { boundChildren } from '../observability/metrics.js';
import { AppError, invalid } from '../http/errors.js';
import { rejection } from '../http/limits.js';
import type { Stage } from '../http/routing.js';
import type { AgentChangeEvent, PauseChangeEvent } from '../events/bus.js';
import type {
  AgentProfile,
  AgentRecord,
  EventQuery,
  PauseChange,
  PauseChangeResult,
  PauseEventRecord,
  PauseOutcome,
  PauseSource,
} from './pause.store.js';

export type { PauseOutcome } from './pause.store.js';

/**
 * The pause service: the ONE place where an agent's pause state changes. Every entry point (the
 * webhook methods, the admin API, the inbound IVR, auto-resume) calls `changePause`, so the rules
 * below hold everywhere:
 *
 * - `changePause({stage, cli, pause, reason?, source, callId?})` → `PauseOutcome`
 *   `cli` must already be E.164 (use `normalizePhone`). `pause` is the wanted state, or `'toggle'`
 *   to flip whatever the state is at the moment of the change (decided inside the transaction, so
 *   concurrent toggles serialise). Throws `AppError` AGENT_NOT_FOUND (unregistered) or
 *   RATE_LIMITED (PAUSE_CHANGES_PER_MINUTE per agent; only requests that would change the state
 *   count). Rules: asking for the current state is `changed: false` with no event; pausing an
 *   available agent opens a break with the optional reason; a different reason while paused closes
 *   that break and opens the next (`changed: true`, one event, new `since`); becoming available
 *   clears the reason. The agent row and its event are written in one store call
 *   (`PauseStore.applyPauseChange`, one transaction); after the commit `pause_changes_total` is
 *   counted and `deps.bus` emits `pauseChange` (listener errors are logged, never thrown).
 * - `changePauseWith(request, {onlyIf, alsoKeep, agent})` — the same, with the store's options:
 *   `onlyIf(agent)` checked inside the transaction (else `skipped`), `alsoKeep` a reply stored
 *   atomically with the change (else `replayed` with the reply stored first: the IVR's retry
 *   de-duplication). `agent` is the agent as the caller already read it, to decide whether the
 *   request counts against the per-agent limit without reading it again; it (or the one read for
 *   the limit) goes to the store as `known`, so an engine can start from it (PostgreSQL does).
 * - Agents: `getAgent`, `requireAgent`, `listAgents`, `saveAgent` (create or merge profile),
 *   `deleteAgent`, `importAgents`. Events: `events({stage, cli?, from?, to?, limit})`.
 * - `agentJson(agent)` / `eventJson(event)` give the contract's JSON shapes.
 */

export interface PauseChangeRequest {
  stage: Stage;
  cli: string;
  pause: boolean | 'toggle';
  /** Break reason (1–64 characters); ignored when becoming available. */
  reason?: string | null;
  source: PauseSource;
  callId?: string | null;
}

export interface ChangeOptions extends Pick<PauseChange, 'onlyIf' | 'alsoKeep'> {
  /** The agent as the caller just read it (saves a read before the limiter). */
  agent?: AgentRecord;
}

/** What a change came to, when the agent exists (AGENT_NOT_FOUND is thrown). */
export type ChangeResult = Exclude<PauseChangeResult, { kind: 'notFound' }>;

export interface AgentInput {
  cli: string;
  name?: string | null;
  accountId?: string | null;
  language?: string | null;
}

export interface ImportRow {
  /** 1-based line (CSV) or position (JSON array). */
  line: number;
  input?: AgentInput;
  /** Why the row could not be read, when it could not. */
  error?: string;
}

export interface ImportResult {
  imported: number;
  updated: number;
  invalid: { line: number; error: string }[];
}

export const REASON_MAX = 64;
export const NAME_MAX = 128;
export const ACCOUNT_ID_MAX = 64;

export const agentNotFound = (cli: string) => new AppError('AGENT_NOT_FOUND', `no agent is registered with cli ${cli}`, 'cli');

/** The contract's agent shape (docs/http.md §2.2, 6). */
export function agentJson(a: AgentRecord) {
  return {
    cli: a.cli,
    name: a.name,
    accountID: a.accountId,
    language: a.language,
    pause: a.pause,
    reason: a.reason,
    since: a.since === null ? null : iso(a.since),
  };
}

/** The contract's event shape (docs/http.md §6). */
export function eventJson(e: PauseEventRecord) {
  return { at: iso(e.at), cli: e.cli, pause: e.pause, reason: e.reason, source: e.source, callId: e.callId };
}

/** The state a request leads to, or null when it asks for what the agent already has. */
export function nextState(cur: AgentRecord, want: boolean | 'toggle', reason: string | null): { pause: boolean; reason: string | null } | null {
  const target = want === 'toggle' ? !cur.pause : want;
  if (!target) return cur.pause ? { pause: false, reason: null } : null;
  if (!cur.pause) return { pause: true, reason };
  if (reason !== null && reason !== cur.reason) return { pause: true, reason };
  return null;
}

const codePoints = (s: string) => [...s].length;

export function createPauseService(deps: AppDeps, opts: { languages: readonly string[] }) {
  const { clock, metrics, bus, logger, config } = deps;
  const store = deps.stores.pause;
  const pauseChanges = boundChildren(metrics.pauseChanges);
  // With an events webhook, each change queues its notification in its own transaction (the
  // outbox, src/delivery/outbox.store.ts; sent by src/delivery/sender.ts).
  const notify = Boolean(config.EVENTS_WEBHOOK_URL && config.EVENTS_WEBHOOK_SECRET);
  const limiter =
    config.PAUSE_CHANGES_PER_MINUTE > 0
      ? deps.stores.limiters({ name: 'pauseChanges', points: config.PAUSE_CHANGES_PER_MINUTE, durationSeconds: 60 })
      : undefined;

  async function requireAgent(stage: Stage, cli: string): Promise<AgentRecord> {
    const a = await store.getAgent(stage, cli);
    if (!a) throw agentNotFound(cli);
    return a;
  }

  function checkReason(reason: string | null | undefined): string | null {
    if (reason === undefined || reason === null) return null;
    const n = codePoints(reason);
    if (n < 1 || n > REASON_MAX) throw invalid('reason', `reason must be 1-${REASON_MAX} characters`);
    return reason;
  }

  /** Validate a profile; returns the fields given (undefined = keep). */
  function checkProfile(input: AgentInput): AgentProfile {
    const out: AgentProfile = {};
    if (input.name !== undefined) {
      if (input.name !== null && (codePoints(input.name) > NAME_MAX)) throw invalid('name', `name must be at most ${NAME_MAX} characters`);
      out.name = input.name;
    }
    if (input.accountId !== undefined) {
      if (input.accountId !== null && codePoints(input.accountId) > ACCOUNT_ID_MAX)
        throw invalid('accountID', `accountID must be at most ${ACCOUNT_ID_MAX} characters`);
      out.accountId = input.accountId;
    }
    if (input.language !== undefined) {
      if (input.language !== null && !opts.languages.includes(input.language))
        throw invalid('language', `language must be one of ${opts.languages.join(', ')}`);
      out.language = input.language;
    }
    return out;
  }

  function announce(o: PauseOutcome): void {
    if (!o.changed || !o.event) return;
    pauseChanges(o.agent.stage, o.event.source, String(o.agent.pause)).inc();
    try {
      // Only a board or event stream open on this instance listens; without one, nothing is built.
      if (bus.listenerCount('pauseChange') > 0) {
        const ev: PauseChangeEvent = {
          stage: o.agent.stage,
          at: iso(o.event.at),
          cli: o.agent.cli,
          name: o.agent.name,
          pause: o.agent.pause,
          reason: o.agent.reason,
          source: o.event.source,
          callId: o.event.callId,
        };
        bus.emit('pauseChange', ev);
      }
      // The change queued its notification in its own transaction, when one is configured.
      if (notify) bus.emit('deliveryQueued');
    } catch (e) {
      logger.error({ errType: (e as Error)?.name }, 'pauseChange listener failed');
    }
  }

  /** After the commit: the board shows agents added, renamed or removed (docs/http.md §8.2). */
  function announceAgent(ev: AgentChangeEvent): void {
    try {
      bus.emit('agentChange', ev);
    } catch (e) {
      logger.error({ errType: (e as Error)?.name }, 'agentChange listener failed');
    }
  }

  async function changePauseWith(req: PauseChangeRequest, options: ChangeOptions = {}): Promise<ChangeResult> {
    const reason = req.pause === false ? null : checkReason(req.reason);
    // Supervisors are not rate-limited: the per-agent limit guards against a looping phone or flow (docs/http.md §8.4).
    let counted: string | undefined;
    let known = options.agent;
    if (limiter && req.source !== 'admin') {
      const before = (known ??= await requireAgent(req.stage, req.cli));
      if (nextState(before, req.pause, reason)) {
        counted = `${req.stage}:${req.cli}`;
        try {
          await limiter.consume(counted);
        } catch (r) {
          throw rejection(r, `too many pause changes for ${req.cli}; try again later`);
        }
      }
    }
    const result = await store.applyPauseChange(req.stage, req.cli, (cur) => nextState(cur, req.pause, reason), {
      at: clock.now(),
      source: req.source,
      callId: req.callId ?? null,
      onlyIf: options.onlyIf,
      alsoKeep: options.alsoKeep,
      notify,
      known,
    });
    // Only changes count: the point is given back when the change, decided inside the
    // transaction, changed nothing (a platform retry replayed, the state changed meanwhile).
    if (counted && !(result.kind === 'applied' && result.changed)) await limiter!.reward(counted, 1).catch(() => undefined);
    if (result.kind === 'notFound') throw agentNotFound(req.cli);
    if (result.kind === 'applied') announce(result);
    return result;
  }

  return {
    getAgent: (stage: Stage, cli: string) => store.getAgent(stage, cli),
    requireAgent,
    listAgents: (stage: Stage) => store.listAgents(stage),

    /** Create (available, no reason) or merge the given profile fields; `created` tells which. */
    async saveAgent(stage: Stage, input: AgentInput): Promise<{ agent: AgentRecord; created: boolean }> {
      const saved = await store.saveAgent(stage, input.cli, checkProfile(input), clock.now());
      announceAgent({ stage, cli: input.cli, change: 'saved' });
      return saved;
    },

    async deleteAgent(stage: Stage, cli: string): Promise<void> {
      if (!(await store.deleteAgent(stage, cli))) throw agentNotFound(cli);
      announceAgent({ stage, cli, change: 'deleted' });
    },

    /**
     * Import rows already split from CSV or JSON. `line` numbers the row for error reports; a row
     * with `error` could not be read at all; `cli` is as written and normalised here. Invalid rows
     * are reported and valid rows saved, all in one transaction.
     */
    async importAgents(stage: Stage, rows: ImportRow[], normalize: (cli: string) => string | undefined): Promise<ImportResult> {
      const valid: { cli: string; profile: AgentProfile }[] = [];
      const bad: ImportResult['invalid'] = [];
      for (const row of rows) {
        try {
          if (row.error !== undefined) throw invalid('body', row.error);
          const input = row.input!;
          if (input.cli.trim() === '') throw invalid('cli', 'cli is required');
          const cli = normalize(input.cli);
          if (!cli) throw invalid('cli', `cli "${input.cli.slice(0, 40)}" is not a valid phone number`);
          valid.push({ cli, profile: checkProfile({ ...input, cli }) });
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          bad.push({ line: row.line, error: e.message });
        }
      }
      const counts = await store.importAgents(stage, valid, clock.now());
      if (valid.length) announceAgent({ stage, cli: null, change: 'imported' });
      return { ...counts, invalid: bad };
    },

    /** A change with no conditions: always `applied`. */
    async changePause(req: PauseChangeRequest): Promise<PauseOutcome> {
      return (await changePauseWith(req)) as PauseOutcome;
    },
    changePauseWith,

    events: (q: EventQuery): Promise<PauseEventRecord[]> => store.events(q),
  };
}

export type PauseService = ReturnType<typeof createPauseService>;
