import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { route } from './routing.js';

/** `GET /openapi.json`: the repository's docs/openapi.json, read once at start (docs/http.md §8.5). Public, like /healthz. */
export const OPENAPI_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/openapi.json');

export function openApiRoute(router: Router): void {
  const text = readFileSync(OPENAPI_FILE, 'utf8');
  route(router, '/openapi.json', {
    get: (_req, res) => {
      res.locals.route = '/openapi.json';
      res.status(200).type('application/json; charset=utf-8').set('Cache-Control', 'public, max-age=300').send(text);
    },
  });
}
