import type { Router } from 'express';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { readBody } from '../http/body.js';
import { AppError, invalid } from '../http/errors.js';
import { handle, send } from '../http/respond.js';
import { parseStage, route, stageGuard, type Stage } from '../http/routing.js';
import { parseCsv } from '../pause/csv.js';
import { normalizePhone } from '../phone.js';
import type { OutboundStore } from './outbound.store.js';

/**
 * A client's suppression list (opt-outs, DND; docs/http.md §9): `PUT`/`DELETE
 * /admin/{stage}/clients/{id}/suppressed/{number}` and `POST …/suppressed/import` with CSV (one
 * number a line, an optional `number` header) or a JSON array of numbers or `{number}` objects →
 * `{imported, alreadySuppressed, invalid: [{line, error}]}`. A suppressed number is never dialled.
 */
const MAX_IMPORT = 100_000;

export function suppressionRoutes(router: Router, store: OutboundStore, clock: Clock, config: Pick<Config, 'DEFAULT_REGION'>): void {
  const client = async (stage: Stage, clientID: string) => {
    if (!(await store.getClient(stage, clientID))) throw new AppError('NOT_FOUND', 'no such client in this stage', 'clientID');
  };
  const number = (raw: string) => {
    const e164 = normalizePhone(raw, config.DEFAULT_REGION);
    if (!e164) throw invalid('number', 'number is not a valid phone number');
    return e164;
  };

  // Before `…/suppressed/:number`, which would otherwise take `import` as a number.
  route(
    router,
    '/admin/:stage/clients/:clientID/suppressed/import',
    {
      post: [
        readBody({ allowCsv: true }),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const clientID = String(req.params.clientID);
          await client(stage, clientID);
          const input = res.locals.input;
          let rows: { line: number; value: unknown }[];
          if (input?.kind === 'csv') rows = csvRows(input.text ?? '');
          else if (input?.kind === 'json' && Array.isArray(input.json)) {
            rows = input.json.map((v, i) => ({ line: i + 1, value: v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { number?: unknown }).number : v }));
          } else throw invalid('body', 'send text/csv (one number a line) or a JSON array of numbers');
          if (rows.length > MAX_IMPORT) throw invalid('body', `at most ${MAX_IMPORT} numbers an import`);
          const numbers: string[] = [];
          const bad: { line: number; error: string }[] = [];
          for (const r of rows) {
            const e164 = typeof r.value === 'string' || typeof r.value === 'number' ? normalizePhone(String(r.value), config.DEFAULT_REGION) : undefined;
            if (e164) numbers.push(e164);
            else bad.push({ line: r.line, error: 'not a valid phone number' });
          }
          const distinct = [...new Set(numbers)];
          const imported = distinct.length > 0 ? await store.suppress(stage, clientID, distinct, clock.now()) : 0;
          send(req, res, 200, { imported, alreadySuppressed: distinct.length - imported, invalid: bad });
        }),
      ],
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/clients/:clientID/suppressed/:number',
    {
      put: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        const clientID = String(req.params.clientID);
        const n = number(String(req.params.number));
        await client(stage, clientID);
        const added = await store.suppress(stage, clientID, [n], clock.now());
        send(req, res, added === 1 ? 201 : 200, { clientID, number: n, suppressed: true });
      }),
      delete: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        const clientID = String(req.params.clientID);
        const n = number(String(req.params.number));
        if (!(await store.unsuppress(stage, clientID, n))) throw new AppError('NOT_FOUND', 'this number is not on the suppression list', 'number');
        res.status(204).end();
      }),
    },
    stageGuard,
  );
}

function csvRows(text: string): { line: number; value: unknown }[] {
  const records = parseCsv(text);
  if (records.length && /^\s*(number|phone|msisdn|cli)\s*$/i.test(records[0]!.fields[0] ?? '')) records.shift();
  return records.map((r) => ({ line: r.line, value: r.fields[0]?.trim() ?? '' }));
}
