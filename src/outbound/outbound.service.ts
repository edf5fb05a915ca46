import { randomBytes, randomUUID } from 'node:crypto';
import type { AppDeps } from '../deps.js';
import { AppError } from '../http/errors.js';
import type { Stage } from '../http/routing.js';
import { iso } from '../clock.js';
import type { CallingWindow } from './callingWindow.js';
import type { ContactView, OutboundClient, OutboundStore, RequestState, StoredResponse } from './outbound.store.js';
import { hashSecurityId, securityIdMatches } from './securityId.js';

export interface Credentials {
  clientID: string;
  securityID: string;
}

export interface CreateOutboundInput extends Credentials {
  flowID: string;
  delayMinutes: number;
  numbers: string[];
  idempotencyKey: string | undefined;
}

export type RequestStatus = 'scheduled' | 'dispatching' | 'done' | 'cancelled';

export interface OutboundStatus {
  obdReqID: string;
  status: RequestStatus;
  scheduledAt: string;
  contacts: ContactView[];
}

// Compared against when the client is unknown, so both failures take the same time.
const NO_SECRET_HASH = hashSecurityId(randomBytes(32).toString('hex'));

/** createOutbound, getOutboundStatus and cancelOutbound (docs/http.md §2.3, 2.4). */
export class OutboundService {
  constructor(
    private readonly deps: Pick<AppDeps, 'clock' | 'metrics'>,
    private readonly store: OutboundStore,
    private readonly window: CallingWindow | undefined,
    private readonly onScheduled: () => void,
  ) {}

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
    const earliest = now + input.delayMinutes * 60_000;
    const scheduledAt = this.window ? this.window.nextOpening(earliest) : earliest;
    const reqID = randomBytes(12).toString('hex');
    const phononUUID = randomUUID();
    const response: StoredResponse = {
      status: 200,
      body: {
        obdResponseCode: 200,
        obdReqID: reqID,
        obdPhononUUID: phononUUID,
        scheduledAt: iso(scheduledAt),
        contacts: input.numbers.length,
      },
    };
    const idem = input.idempotencyKey === undefined ? undefined : { scope: idempotencyScope(client), key: input.idempotencyKey };
    const result = await this.store.createRequest(
      { stage, reqID, clientID: client.clientID, flowID: input.flowID, phononUUID, scheduledAt, createdAt: now, numbers: input.numbers },
      idem,
      response,
    );
    if (result === response) {
      this.deps.metrics.outboundScheduled.inc({ stage }, input.numbers.length);
      if (scheduledAt <= now) this.onScheduled();
    }
    return result;
  }

  async status(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    const state = await this.store.requestState(stage, reqID);
    // Another client's request is as unknown as one that does not exist.
    return view(state && state.request.clientID === client.clientID ? state : undefined);
  }

  async cancel(stage: Stage, client: OutboundClient, reqID: string): Promise<OutboundStatus> {
    return view(await this.store.cancelRequest(stage, reqID, client.clientID, this.deps.clock.now()));
  }
}

function view(state: RequestState | undefined): OutboundStatus {
  if (!state) throw new AppError('NOT_FOUND', 'no outbound request with this obdReqID', 'obdReqID');
  const { request, contacts } = state;
  return { obdReqID: request.reqID, status: requestStatus(request.cancelledAt, contacts), scheduledAt: iso(request.scheduledAt), contacts };
}

function idempotencyScope(client: OutboundClient): string {
  return `createOutbound:${client.clientID}`;
}

function requestStatus(cancelledAt: number | null, contacts: ContactView[]): RequestStatus {
  if (cancelledAt !== null) return 'cancelled';
  if (contacts.every((c) => c.status !== 'scheduled')) return 'done';
  return contacts.some((c) => c.attempts > 0 || c.status !== 'scheduled') ? 'dispatching' : 'scheduled';
}
