import type { Stage } from '../http/routing.js';
import type { CallOutcome, Category } from './dialer.js';
import {
  DEFAULT_CLIENT_SETTINGS,
  type ClientSettings,
  type ContactStatus,
  type ContactView,
  type OutboundClient,
  type OutboundRequest,
  type StoredResponse,
} from './outbound.store.js';
import type { ContactEnd } from './statusCallbacks.js';

/**
 * The rows of the outbound tables (migrations 020, 070_outbound_platforms and their PostgreSQL
 * twins) as both engines return them, and their mapping to records: one place for the shapes
 * that outbound.store.sqlite.ts and outbound.store.pg.ts read (each keeps its own SQL).
 */

export interface ClientRow {
  stage: Stage;
  client_id: string;
  security_id_sha256: string;
  flows: string;
  created_at: number;
  updated_at: number;
  caller_id: string | null;
  max_concurrent: number;
  calls_per_second: number;
  flow_targets: string;
}

export interface RequestRow {
  stage: Stage;
  req_id: string;
  client_id: string;
  flow_id: string;
  phonon_uuid: string;
  scheduled_at: number;
  created_at: number;
  cancelled_at: number | null;
  category: Category;
  status_callback_url: string | null;
  expires_at: number | null;
  paused_at: number | null;
}

export interface ContactRow {
  number: string;
  status: ContactStatus;
  attempts: number;
  last_error: string | null;
  outcome: CallOutcome | null;
  duration_seconds: number | null;
  awaiting_until: number | null;
}

export const CLIENT_COLUMNS =
  'stage, client_id, security_id_sha256, flows, created_at, updated_at, caller_id, max_concurrent, calls_per_second, flow_targets';
export const CONTACT_COLUMNS = 'number, status, attempts, last_error, outcome, duration_seconds, awaiting_until';
export const REQUEST_COLUMNS =
  'stage, req_id, client_id, flow_id, phonon_uuid, scheduled_at, created_at, cancelled_at, category, status_callback_url, expires_at, paused_at';

/** A contact as a statement that may end it returns it (RETURNING), for its statusCallbackUrl delivery (docs/http.md §9.6). */
export interface EndedRow {
  stage: Stage;
  req_id: string;
  number: string;
  status: ContactStatus;
  outcome: CallOutcome | null;
  duration_seconds: number | null;
}
export const ENDED_COLUMNS = 'stage, req_id, number, status, outcome, duration_seconds';

export const toEnd = (r: EndedRow): ContactEnd => ({ number: r.number, status: r.status, outcome: r.outcome, durationSeconds: r.duration_seconds });

/** A client's settings from its row; a client deleted meanwhile paces with the defaults. */
export function toSettings(row: Partial<ClientRow>): ClientSettings {
  return {
    callerId: row.caller_id ?? null,
    maxConcurrent: row.max_concurrent ?? DEFAULT_CLIENT_SETTINGS.maxConcurrent,
    callsPerSecond: row.calls_per_second ?? DEFAULT_CLIENT_SETTINGS.callsPerSecond,
    targets: row.flow_targets ? (JSON.parse(row.flow_targets) as Record<string, string>) : {},
  };
}

export function toClient(row: ClientRow): OutboundClient {
  return {
    stage: row.stage,
    clientID: row.client_id,
    securityIdHash: row.security_id_sha256,
    flows: JSON.parse(row.flows) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    settings: toSettings(row),
  };
}

export function toRequest(row: RequestRow): OutboundRequest {
  return {
    stage: row.stage,
    reqID: row.req_id,
    clientID: row.client_id,
    flowID: row.flow_id,
    phononUUID: row.phonon_uuid,
    scheduledAt: row.scheduled_at,
    createdAt: row.created_at,
    cancelledAt: row.cancelled_at,
    category: row.category,
    statusCallbackUrl: row.status_callback_url,
    expiresAt: row.expires_at,
    pausedAt: row.paused_at,
  };
}

export function toContact(r: ContactRow): ContactView {
  return {
    number: r.number,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    outcome: r.outcome,
    durationSeconds: r.duration_seconds,
    awaitingUntil: r.awaiting_until,
  };
}

export function toResponse(row: { status: number; response: string }): StoredResponse {
  return { status: row.status, body: JSON.parse(row.response) as Record<string, unknown> };
}
