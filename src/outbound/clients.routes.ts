import type { Router } from 'express';
import type { Clock } from '../clock.js';
import { iso } from '../clock.js';
import { readBody } from '../http/body.js';
import { AppError, invalid, missing } from '../http/errors.js';
import { assertKnownBodyFields, Params } from '../http/params.js';
import { handle, send, sendList } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import type { OutboundClient, OutboundStore } from './outbound.store.js';
import { hashSecurityId } from './securityId.js';

const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const SECURITY_ID = /^[\x21-\x7e]{64}$/;
const FLOW_ID = /^[\x21-\x7e]{8}$/;
const MAX_FLOWS = 1000;
const CLIENT_FIELDS = ['securityID', 'flows'] as const;

/**
 * `PUT /admin/{stage}/clients/{clientID}` `{securityID, flows}` → 201 created / 200 replaced (docs/http.md §6);
 * `GET /admin/{stage}/clients` and `DELETE /admin/{stage}/clients/{clientID}` (docs/http.md §8.4).
 */
export function clientsRoutes(router: Router, store: OutboundStore, clock: Clock): void {
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
          const flows = flowList(params.list('flows'));
          const { created, client } = await store.putClient(stage, clientID, hashSecurityId(securityID), flows, clock.now());
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

/** A JSON array of flow IDs (or repeated XML elements, or one comma-separated text). */
function flowList(raw: unknown): string[] {
  if (raw === undefined || raw === null) throw missing('flows');
  let list: unknown[];
  if (Array.isArray(raw)) list = raw;
  else if (typeof raw === 'string') list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  else if (typeof raw === 'object' && Object.keys(raw).length === 1 && 'item' in raw) list = ([] as unknown[]).concat((raw as { item: unknown }).item);
  else throw invalid('flows', 'flows must be a list of 8-character flow IDs');
  if (list.length > MAX_FLOWS) throw invalid('flows', `at most ${MAX_FLOWS} flows`);
  const bad = list.filter((f) => typeof f !== 'string' || !FLOW_ID.test(f));
  if (bad.length > 0) throw invalid('flows', 'each flow ID must be 8 printable ASCII characters without spaces');
  return [...new Set(list as string[])];
}

/** The security ID is never echoed. */
function view(c: OutboundClient): Record<string, unknown> {
  return { clientID: c.clientID, flows: c.flows, createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) };
}
