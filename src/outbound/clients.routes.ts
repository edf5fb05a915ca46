import type { Router } from 'express';
import type { Clock } from '../clock.js';
import { iso } from '../clock.js';
import { readBody } from '../http/body.js';
import { AppError, invalid, missing } from '../http/errors.js';
import { assertKnownBodyFields, Params } from '../http/params.js';
import { handle, send, sendList } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import type { Config } from '../config.js';
import { DEFAULT_CLIENT_SETTINGS, type ClientSettings, type OutboundClient, type OutboundStore } from './outbound.store.js';
import { hashSecurityId } from './securityId.js';

const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const SECURITY_ID = /^[\x21-\x7e]{64}$/;
const FLOW_ID = /^[\x21-\x7e]{8}$/;
const MAX_FLOWS = 1000;
const CLIENT_FIELDS = ['securityID', 'flows', 'callerId', 'maxConcurrent', 'callsPerSecond'] as const;
/** A flow's platform target: a Studio Flow SID, an answer URL, or an Exotel app id (docs/http.md §9). */
const STUDIO_SID = /^FW[0-9a-fA-F]{32}$/;
const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TARGET = 2048;

/**
 * `PUT /admin/{stage}/clients/{clientID}` `{securityID, flows}` → 201 created / 200 replaced (docs/http.md §6);
 * `GET /admin/{stage}/clients` and `DELETE /admin/{stage}/clients/{clientID}` (docs/http.md §8.4).
 */
export function clientsRoutes(router: Router, store: OutboundStore, clock: Clock, config: Pick<Config, 'DEFAULT_REGION'>): void {
  route(
    router,
    '/admin/:stage/clients',
    {
      get: handle(async (req, res) => {
        sendList(req, res, 200, (await store.listClients(parseStage(req.params.stage))).map(view));
      }),
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/clients/:clientID',
    {
      put: [
        readBody(),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const clientID = String(req.params.clientID);
          if (!CLIENT_ID.test(clientID)) throw invalid('clientID', 'clientID must be 1-128 characters of A-Z a-z 0-9 _ . : -');
          assertKnownBodyFields(res, CLIENT_FIELDS);
          const params = Params.fromRequest(req, res);
          const securityID = params.requireString('securityID');
          if (!SECURITY_ID.test(securityID)) throw invalid('securityID', 'securityID must be 64 printable ASCII characters without spaces');
          const { flows, targets } = flowList(params.list('flows'));
          const settings: ClientSettings = {
            callerId: callerIdOf(params.string('callerId', { max: 32 }), config.DEFAULT_REGION),
            maxConcurrent: params.int('maxConcurrent', { min: 1, max: 1000 }) ?? DEFAULT_CLIENT_SETTINGS.maxConcurrent,
            callsPerSecond: rateOf(params.raw('callsPerSecond')),
            targets,
          };
          const { created, client } = await store.putClient(stage, clientID, hashSecurityId(securityID), flows, clock.now(), settings);
          send(req, res, created ? 201 : 200, view(client));
        }),
      ],
      delete: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        if (!(await store.deleteClient(stage, String(req.params.clientID)))) throw new AppError('NOT_FOUND', 'no such client in this stage', 'clientID');
        res.status(204).end();
      }),
    },
    stageGuard,
  );
}

function callerIdOf(raw: string | undefined, region: string): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  const e164 = normalizePhone(raw, region);
  if (!e164) throw invalid('callerId', 'callerId must be a valid phone number (the number the customer sees)');
  return e164;
}

/** callsPerSecond: a number above 0 and at most 100 (0.5 is one call every two seconds). */
function rateOf(raw: unknown): number {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_CLIENT_SETTINGS.callsPerSecond;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw invalid('callsPerSecond', 'callsPerSecond must be a number above 0 and at most 100');
  return n;
}

function targetOf(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_TARGET) throw invalid('flows', 'a flow target must be a Studio Flow SID (FW…), an http(s) answer URL or an Exotel app id');
  if (STUDIO_SID.test(raw) || APP_ID.test(raw)) return raw;
  try {
    const u = new URL(raw);
    if ((u.protocol === 'https:' || u.protocol === 'http:') && u.hostname) return u.toString();
  } catch {
    // fall through to the error
  }
  throw invalid('flows', 'a flow target must be a Studio Flow SID (FW…), an http(s) answer URL or an Exotel app id');
}

/**
 * A JSON array of flow IDs or `{flowID, target}` objects (docs/http.md §9), or repeated XML
 * elements, or one comma-separated text of flow IDs.
 */
function flowList(raw: unknown): { flows: string[]; targets: Record<string, string> } {
  if (raw === undefined || raw === null) throw missing('flows');
  let list: unknown[];
  if (Array.isArray(raw)) list = raw;
  else if (typeof raw === 'string') list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  else if (typeof raw === 'object' && Object.keys(raw).length === 1 && 'item' in raw) list = ([] as unknown[]).concat((raw as { item: unknown }).item);
  else throw invalid('flows', 'flows must be a list of 8-character flow IDs');
  if (list.length > MAX_FLOWS) throw invalid('flows', `at most ${MAX_FLOWS} flows`);
  const flows: string[] = [];
  const targets: Record<string, string> = {};
  for (const f of list) {
    let id: unknown = f;
    if (f !== null && typeof f === 'object' && !Array.isArray(f)) {
      const { flowID, target, ...rest } = f as Record<string, unknown>;
      if (Object.keys(rest).length > 0) throw invalid('flows', 'a flow object has only flowID and target');
      id = flowID;
      if (typeof id === 'string' && FLOW_ID.test(id) && target !== undefined && target !== null) targets[id] = targetOf(target);
    }
    if (typeof id !== 'string' || !FLOW_ID.test(id)) throw invalid('flows', 'each flow ID must be 8 printable ASCII characters without spaces');
    if (!flows.includes(id)) flows.push(id);
  }
  return { flows, targets };
}

/** The security ID is never echoed. Flows with a target show as `{flowID, target}`. */
function view(c: OutboundClient): Record<string, unknown> {
  const { callerId, maxConcurrent, callsPerSecond, targets } = c.settings;
  return {
    clientID: c.clientID,
    flows: c.flows.map((f) => (targets[f] ? { flowID: f, target: targets[f] } : f)),
    callerId,
    maxConcurrent,
    callsPerSecond,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}
