import { randomBytes } from 'node:crypto';
import type { Router } from 'express';
import type { Config } from '../config.js';
import { invalid } from '../http/errors.js';
import { Params } from '../http/params.js';
import { handle, send, sendList } from '../http/respond.js';
import { parseStage, route, stageGuard } from '../http/routing.js';
import { normalizePhone } from '../phone.js';
import { agentNotFound } from '../pause/pause.service.js';
import { renderBoard } from './board.page.js';
import type { BoardStream } from './board.stream.js';
import type { BreaksService } from './breaks.service.js';
import { reportCsv } from './report.csv.js';

/**
 * Admin routes for break visibility (docs/http.md §6): the break report (JSON, XML or CSV), the
 * supervisor board page and its data, and the SSE stream of pause changes. The admin guard runs
 * in app.ts, so the board follows the same access rule as the rest of /admin.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

function timeParam(params: Params, name: string): number | undefined {
  const s = params.string(name);
  if (s === undefined || s === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw invalid(name, `${name} must be an ISO-8601 time such as 2026-01-15T10:00:00Z`);
  return ms;
}

export function breaksRoutes(router: Router, service: BreaksService, stream: BoardStream, config: Config, now: () => number): void {
  route(
    router,
    '/admin/:stage/reports/breaks',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        const params = Params.fromRequest(req, res);
        const format = (params.string('format') ?? '').trim().toLowerCase();
        if (!['', 'json', 'xml', 'csv'].includes(format)) throw invalid('format', 'format must be json, xml or csv');
        const to = timeParam(params, 'to') ?? now();
        const from = timeParam(params, 'from') ?? to - DAY_MS;
        if (from >= to) throw invalid('from', 'from must be before to');
        const cliText = params.string('cli');
        let cli: string | undefined;
        if (cliText !== undefined && cliText !== '') {
          cli = normalizePhone(cliText, config.DEFAULT_REGION);
          if (!cli) throw invalid('cli', 'cli is not a valid phone number');
        }
        const rows = await service.report(stage, { from, to }, cli);
        if (cli && rows.length === 0) throw agentNotFound(cli);
        const wantsCsv = format === 'csv' || (format === '' && req.accepts(['application/json', 'text/csv']) === 'text/csv' && !!req.headers.accept?.includes('text/csv'));
        if (wantsCsv) {
          res.locals.route = '/admin/:stage/reports/breaks';
          // Named after the window's first day in the contact centre's time zone.
          const day = new Intl.DateTimeFormat('en-CA', { timeZone: config.CALLING_TZ }).format(from);
          res
            .status(200)
            .type('text/csv; charset=utf-8')
            .set('Content-Disposition', `attachment; filename="breaks-${stage}-${day}.csv"`)
            .send(reportCsv(rows));
          return;
        }
        sendList(req, res, 200, rows);
      }),
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/board',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        const nonce = randomBytes(16).toString('base64');
        res.locals.route = '/admin/:stage/board';
        res
          .status(200)
          .type('text/html; charset=utf-8')
          .set({
            'Cache-Control': 'no-store',
            'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
            'X-Content-Type-Options': 'nosniff',
          })
          .send(renderBoard(await service.board(stage), nonce, { canLogout: config.ADMIN_TOKEN !== undefined }));
      }),
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/board/data',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        res.set('Cache-Control', 'no-store');
        send(req, res, 200, { ...(await service.board(stage)) });
      }),
    },
    stageGuard,
  );

  route(
    router,
    '/admin/:stage/events/stream',
    {
      get: handle(async (req, res) => {
        const stage = parseStage(req.params.stage);
        res.locals.route = '/admin/:stage/events/stream';
        stream.open(req, res, stage);
      }),
    },
    stageGuard,
  );
}
