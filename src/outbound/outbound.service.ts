import { randomBytes, randomUUID } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { AppError } from '../http/errors.js';
import type { Stage } from '../http/routing.js';
import { iso } from '../clock.js';
import type { Config } from '../config.js';
import type { CallingWindow } from './callingWindow.js';
import type { NewContact } from './contacts.js';
import type { CallOutcome, Category } from './dialer.js';
import type { ContactView, OutboundClient, OutboundStore, OutcomeResult, RequestState, StoredResponse } from './outbound.store.js';
import { hashSecurityId, securityIdMatches } from './securityId.js';

export interface Credentials {
  clientID: string;
  securityID: string;
}

export interface CreateOutboundInput extends Credentials {
  flowID: string;
  delayMinutes: number;
  contacts: NewContact[];
  idempotencyKey: string | undefined;
  category: Category;
  statusCallbackUrl: string | undefined;
  expiresAt: number | undefined;
}

export type RequestStatus = 'scheduled' | 'dispatching' | 'paused' | 'done' | 'cancelled';

/** A contact as getOutboundStatus shows it (docs/http.md §2.4, §9). */
export interface ContactStatusView {
  number: string;
  status: ContactView['status'];
  attempts: number;
  lastError: string | null;
  outcome: CallOutcome | null;
  durationSeconds: number | null;
}

export interface OutboundStatus {
  obdReqID: string;
  status: RequestStatus;
  scheduledAt: string;
  category: Category;
  expiresAt: string | null;
  contacts: ContactStatusView[];
}

// Compared against when the client is unknown, so both failures take the same time.
const NO_SECRET_HASH = hashSecurityId(randomBytes(32).toString('hex'));

/** createOutbound, getOutboundStatus and cancelOutbound (docs/http.md §2.3, 2.4). */
export class OutboundService {
  constructor(
    private readonly deps: Pick<AppDeps, 'clock' | 'metrics'> & { config: Pick<Config, 'OUTBOUND_RETRIES' | 'OUTBOUND_RETRY_MINUTES'> },
    private readonly store: OutboundStore,
    private readonly window: CallingWindow | undefined,
    private readonly onScheduled: () => void,
    /** A contact ended: its statusCallbackUrl delivery may be in the outbox (docs/http.md §9.6). */
    private readonly onEnded?: () => void,
  ) {}

  /** The first instant calls may go out at or after `ms`: the calling window holds only `prod` (docs/http.md §9). */
  private opening(stage: Stage, ms: number): number {
    return stage === 'prod' && this.window ? this.window.nextOpening(ms) : ms;
  }

  /** The client whose security ID this is, else 401; the hashes are compared in constant time (docs/http.md §7.4). */
  async authenticate(stage: Stage, creds: Credentials): Promise<OutboundClient> {
    const client = await this.store.getClient(stage, creds.clientID);
    const ok = securityIdMatches(creds.securityID, client?.securityIdHash ?? NO_SECRET_HASH);
    if (!client || !ok) throw new AppError('UNAUTHORIZED', 'clientID or securityID is not valid');
    return client;
  }

  /** The first response for this client's idempotency key within 24 h, if there is one. */
  async replay(stage: Stage, client: OutboundClient, key: string | undefined): Promise<StoredResponse | undefined> {
    return key === undefined ? undefined : this.store.replay(stage, { scope: idempotencyScope(client), key }, this.deps.clock.now());
  }

  requireFlow(client: OutboundClient, flowID: string): void {
    if (!client.flows.includes(flowID)) throw new AppError('FLOW_NOT_FOUND', "flowID is not one of this client's flows", 'flowID');
  }

  async create(stage: Stage, client: OutboundClient, input: Omit<CreateOutboundInput, keyof Credentials>): Promise<StoredResponse> {
    this.requireFlow(client, input.flowID);
    const now = this.deps.clock.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now) throw new AppError('INVALID_PARAMETER', 'expiresAt must be in the future', 'expiresAt');
    const scheduledAt = this.opening(stage, now + input.delayMinutes * 60_000);
    const reqID = randomBytes(12).toString('hex');
    const phononUUID = randomUUID();
    const numbers = input.contacts.map((c) => c.number);
    // The count in the reply; the store marks the same numbers `suppressed` when it stores them.
    const suppressed = await this.store.suppressedAmong(stage, client.clientID, numbers);
    const response: StoredResponse = {
      status: 200,
      body: {
        obdResponseCode: 200,
        obdReqID: reqID,
        obdPhononUUID: phononUUID,
        scheduledAt: iso(scheduledAt),
        contacts: numbers.length,
        suppressed: suppressed.size,
      },
    };
    const idem = input.idempotencyKey === undefined ? undefined : { scope: idempotencyScope(client), key: input.idempotencyKey };
    const result = await this.store.createRequest(
      {
        stage,
        reqID,
        clientID: client.clientID,
        flowID: input.flowID,
        phononUUID,
        scheduledAt,
        createdAt: now,
        numbers,
        keys: input.contacts.map((c) => c.keys),
        category: input.category,
        statusCallbackUrl: input.statusCallbackUrl ?? null,
        expiresAt: input.expiresAt ?? null,
      },
      idem,
      response,
    );
    if (result === response) {
      this.deps.metrics.outboundScheduled.inc({ stage }, numbers.length - suppressed.size);
      if (scheduledAt <= now) this.onScheduled();
      if (suppressed.size > 0 && input.statusCallbackUrl) this.onEnded?.();
    }
    return result;
  }

  async status(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    const state = await this.store.requestState(stage, reqID);
    // Another client's request is as unknown as one that does not exist.
    return this.view(state && state.request.clientID === client.clientID ? state : undefined);
  }

  async cancel(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    const state = await this.store.cancelRequest(stage, reqID, client.clientID, this.deps.clock.now());
    if (state?.request.statusCallbackUrl) this.onEnded?.();
    return this.view(state);
  }

  /** pauseOutbound / resumeOutbound (docs/http.md §9): a paused request dials nothing until resumed. */
  async pause(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    return this.view(await this.store.setPaused(stage, reqID, client.clientID, true, this.deps.clock.now()));
  }

  async resume(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    const state = await this.store.setPaused(stage, reqID, client.clientID, false, this.deps.clock.now());
    this.onScheduled();
    return this.view(state);
  }

  /**
   * A platform's final status for the call whose callback key this is (docs/http.md §9): busy and
   * no-answer are redialled OUTBOUND_RETRY_MINUTES later, inside the calling window, up to
   * OUTBOUND_RETRIES times; any other outcome is final.
   */
  async recordOutcome(stage: Stage, callbackKey: string, outcome: CallOutcome, durationSeconds: number | null): Promise<OutcomeResult> {
    const now = this.deps.clock.now();
    const { OUTBOUND_RETRIES, OUTBOUND_RETRY_MINUTES } = this.deps.config;
    const result = await this.store.recordOutcome(stage, callbackKey, {
      outcome,
      durationSeconds,
      at: now,
      redial: { maxRedials: OUTBOUND_RETRIES, dueAt: this.opening(stage, now + OUTBOUND_RETRY_MINUTES * 60_000) },
    });
    // A call ended frees its client's slot; a redial is a contact due later.
    if (result.kind === 'recorded') {
      this.onScheduled();
      if (result.final) this.onEnded?.();
    }
    return result;
  }

  private view(state: RequestState | undefined): OutboundStatus {
    if (!state) throw new AppError('NOT_FOUND', 'no outbound request with this obdReqID', 'obdReqID');
    const { request, contacts } = state;
    return {
      obdReqID: request.reqID,
      status: requestStatus(request.cancelledAt, request.pausedAt, contacts, this.deps.clock.now()),
      scheduledAt: iso(request.scheduledAt),
      category: request.category,
      expiresAt: request.expiresAt === null ? null : iso(request.expiresAt),
      contacts: contacts.map((c) => ({
        number: c.number,
        status: c.status,
        attempts: c.attempts,
        lastError: c.lastError,
        outcome: c.outcome,
        durationSeconds: c.durationSeconds,
      })),
    };
  }
}

function idempotencyScope(client: OutboundClient): string {
  return `createOutbound:${client.clientID}`;
}

/** Done when no contact is waiting to be dialled and no call placed still awaits its outcome. */
function requestStatus(cancelledAt: number | null, pausedAt: number | null, contacts: ContactView[], now: number): RequestStatus {
  if (cancelledAt !== null) return 'cancelled';
  const open = (c: ContactView) => c.status === 'scheduled' || (c.awaitingUntil !== null && c.awaitingUntil > now);
  if (!contacts.some(open)) return 'done';
  if (pausedAt !== null) return 'paused';
  return contacts.some((c) => c.attempts > 0 || c.status !== 'scheduled') ? 'dispatching' : 'scheduled';
}
