import type { Request, Response, Router } from 'express';
import type { Config } from '../config.js';
import { AppError, invalid } from '../http/errors.js';
import { readBody } from '../http/body.js';
import { assertKnownBodyFields, assertKnownFields, Params } from '../http/params.js';
import { handle, send, sendList } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import { parseCsv } from './csv.js';
import { optionalReason, pauseUpdateReply, PAUSE_UPDATE_FAILURE } from './pause.methods.js';
import { agentJson, eventJson, type AgentInput, type ImportRow, type PauseService } from './pause.service.js';

/** Admin API for agents and the pause-change log (docs/http.md §6). The admin guard runs in app.ts. */

const EVENTS_DEFAULT_LIMIT = 1000;
const EVENTS_MAX_LIMIT = 10_000;
const CSV_COLUMNS = ['cli', 'name', 'accountid', 'language'] as const;
const PROFILE_FIELDS = ['name', 'accountID', 'language'] as const;
const PAUSE_FIELDS = ['pause', 'reason'] as const;

/** A nullable profile field: absent → keep, JSON null → clear, otherwise text. */
function nullableString(params: Params, name: string): string | null | undefined {
  const raw = params.raw(name);
  if (raw === null) return null;
  return params.string(name);
}

function profileFrom(params: Params): Omit<AgentInput, 'cli'> {
  return {
    name: nullableString(params, 'name'),
    accountId: nullableString(params, 'accountID'),
    language: nullableString(params, 'language'),
  };
}

function timeParam(params: Params, name: string): number | undefined {
  const s = params.string(name);
  if (s === undefined || s === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw invalid(name, `${name} must be an ISO-8601 time such as 2026-01-15T10:00:00Z`);
  return ms;
}

export function agentsRoutes(router: Router, service: PauseService, config: Config): void {
  const cliFromPath = (req: Request): string => {
    const raw = String(req.params.cli ?? '');
    const cli = normalizePhone(raw, config.DEFAULT_REGION);
    if (!cli) throw invalid('cli', 'cli is not a valid phone number');
    return cli;
  };

  route(
    router,
    '/admin/:stage/agents',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        sendList(req, res, 200, (await service.listAgents(stage)).map(agentJson));
      }),
    },
    stageGuard,
  );

  // Before `/agents/:cli`, whose 405 catch-all would otherwise answer POST …/import.
  route(
    router,
    '/admin/:stage/agents/import',
    {
      post: [
        readBody({ allowCsv: true }),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const input = res.locals.input;
          let rows: ImportRow[];
          if (input?.kind === 'csv') rows = csvRows(input.text ?? '');
          else if (input?.kind === 'json' && Array.isArray(input.json)) rows = jsonRows(input.json);
          else throw invalid('body', 'send text/csv (cli,name,accountID,language) or a JSON array of agents');
          const result = await service.importAgents(stage, rows, (cli) => normalizePhone(cli, config.DEFAULT_REGION));
          send(req, res, 200, { ...result });
        }),
      ],
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/agents/:cli',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        send(req, res, 200, agentJson(await service.requireAgent(stage, cliFromPath(req))));
      }),
      put: [
        readBody(),
        handle(async (req, res) => {
          const stage = parseStage(req.params.stage);
          const cli = cliFromPath(req);
          assertKnownBodyFields(res, PROFILE_FIELDS);
          const { agent, created } = await service.saveAgent(stage, { cli, ...profileFrom(Params.fromRequest(req, res)) });
          send(req, res, created ? 201 : 200, agentJson(agent));
        }),
      ],
      delete: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        await service.deleteAgent(stage, cliFromPath(req));
        res.status(204).end();
      }),
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/agents/:cli/pause',
    {
      post: [
        readBody(),
        handle(async (req: Request, res: Response) => {
          res.locals.failure = PAUSE_UPDATE_FAILURE;
          const stage = parseStage(req.params.stage);
          const cli = cliFromPath(req);
          assertKnownBodyFields(res, PAUSE_FIELDS);
          const params = Params.fromRequest(req, res);
          const pause = params.requireBool('pause');
          const outcome = await service.changePause({ stage, cli, pause, reason: optionalReason(params), source: 'admin' });
          send(req, res, 200, pauseUpdateReply(outcome));
        }),
      ],
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/events',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        const params = Params.fromRequest(req, res);
        const cliText = params.string('cli');
        let cli: string | undefined;
        if (cliText !== undefined && cliText !== '') {
          cli = normalizePhone(cliText, config.DEFAULT_REGION);
          if (!cli) throw invalid('cli', 'cli is not a valid phone number');
        }
        const from = timeParam(params, 'from');
        const to = timeParam(params, 'to');
        if (from !== undefined && to !== undefined && from > to) throw invalid('from', 'from must not be after to');
        const limit = params.int('limit', { min: 1, max: EVENTS_MAX_LIMIT }) ?? EVENTS_DEFAULT_LIMIT;
        sendList(req, res, 200, (await service.events({ stage, cli, from, to, limit })).map(eventJson));
      }),
    },
    stageGuard,
  );
}

function csvRows(text: string): ImportRow[] {
  const records = parseCsv(text);
  let columns: string[] = [...CSV_COLUMNS];
  if (records.length && records[0]!.fields[0]?.trim().toLowerCase() === 'cli') {
    columns = records.shift()!.fields.map((f) => f.trim().toLowerCase());
    const unknown = columns.find((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
    if (unknown !== undefined) throw invalid('body', `unknown CSV column "${unknown.slice(0, 40)}"; use cli,name,accountID,language`);
  }
  return records.map((r) => {
    const cell = (c: string) => {
      const i = columns.indexOf(c);
      const v = i === -1 ? undefined : r.fields[i]?.trim();
      return v === '' ? undefined : v;
    };
    return {
      line: r.line,
      input: { cli: cell('cli') ?? '', name: cell('name'), accountId: cell('accountid'), language: cell('language') },
    };
  });
}

function jsonRows(items: unknown[]): ImportRow[] {
  return items.map((item, i) => {
    const line = i + 1;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { line, error: 'each agent must be an object' };
    // The same parameter rules as the other routes: case-insensitive names, one value each.
    const params = new Params([Object.entries(item as Record<string, unknown>)]);
    try {
      assertKnownFields(item as Record<string, unknown>, ['cli', ...PROFILE_FIELDS]);
      return { line, input: { cli: params.string('cli') ?? '', ...profileFrom(params) } };
    } catch (e) {
      if (e instanceof AppError) return { line, error: e.message };
      throw e;
    }
  });
}
