import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * docs/openapi.json as a test oracle (docs/http.md §8.5): find the operation a request reached
 * and check the reply against the status and media type the file lists for it, JSON bodies
 * against their schema. Used for every supertest reply of the component tests (test/setup) and
 * by the coverage test that compares the file with the routes the app serves.
 */

export const OPENAPI_PATH = resolve(import.meta.dirname, '../../docs/openapi.json');

interface Operation {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
  'x-webhook-methods'?: Record<string, string>;
}
type Spec = { paths: Record<string, Record<string, Operation>>; components: { responses: Record<string, Operation['responses'][string]> } };

export const spec = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Spec;

const ajv = new Ajv2020({ strict: false, allErrors: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(spec as object, 'openapi.json');

/** `/admin/{stage}/agents/{cli}` → a regex; literal segments are matched exactly. */
const templates = Object.keys(spec.paths).map((path) => ({
  path,
  literal: !path.includes('{'),
  re: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
}));

/** The OpenAPI path template a request path falls under (literal paths win over templates). */
export function templateOf(path: string): string | undefined {
  const p = path.split('?')[0]!;
  return (templates.find((t) => t.literal && t.re.test(p)) ?? templates.find((t) => t.re.test(p)))?.path;
}

const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorFor(pointer: string) {
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.compile({ $ref: `openapi.json${pointer}` });
    validators.set(pointer, v);
  }
  return v;
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  body: unknown;
  /** The central webhook's method name, when the request named one. */
  webhookMethod?: string;
}

/** Why the reply does not match docs/openapi.json, or undefined when it does. */
export function checkExchange(x: Exchange): string | undefined {
  const where = `${x.method} ${x.path.split('?')[0]} → ${x.status}`;
  const template = templateOf(x.path);
  const error = x.status >= 400;
  if (!template) {
    // Paths the service does not have: only its error replies (404, 405, 403 …) are expected.
    return error ? checkError(x, where) : `${where}: no path of docs/openapi.json matches`;
  }
  const op = spec.paths[template]![x.method.toLowerCase() === 'head' && !spec.paths[template]!.head ? 'get' : x.method.toLowerCase()];
  if (!op) return x.status === 405 || x.status === 404 || x.status === 403 || x.status === 421 || x.status === 429 ? checkError(x, where) : `${where}: docs/openapi.json has no ${x.method} on ${template}`;
  let response = op.responses[String(x.status)] ?? op.responses.default;
  let pointer = `#/paths/${escapePointer(template)}/${x.method.toLowerCase() === 'head' && !spec.paths[template]!.head ? 'get' : x.method.toLowerCase()}/responses/${x.status}`;
  if (!response) return `${where}: status ${x.status} is not listed for ${x.method} ${template} in docs/openapi.json`;
  if (response.$ref) {
    pointer = response.$ref;
    response = spec.components.responses[response.$ref.split('/').pop()!]!;
  }
  const media = x.contentType?.split(';')[0]!.trim().toLowerCase();
  if (!response.content) return media && x.method !== 'HEAD' && x.body !== undefined && x.body !== '' && !isEmpty(x.body) ? `${where}: docs/openapi.json lists no body, got ${media}` : undefined;
  if (!media) return x.method === 'HEAD' ? undefined : `${where}: no Content-Type`;
  const entry = response.content[media];
  if (!entry) return `${where}: ${media} is not listed (${Object.keys(response.content).join(', ')})`;
  if (media !== 'application/json' || x.method === 'HEAD') return undefined;
  let schemaPointer = `${pointer}/content/${escapePointer(media)}/schema`;
  // The central webhook: each method's reply has its own schema.
  if (!error && op['x-webhook-methods']) {
    const name = x.webhookMethod && Object.keys(op['x-webhook-methods']).find((m) => m.toLowerCase() === x.webhookMethod!.toLowerCase());
    if (!name) return undefined; // a test-only method (test/foundation/echoFeature.ts)
    schemaPointer = `#/components/schemas/${op['x-webhook-methods'][name]}`;
  }
  const validate = validatorFor(schemaPointer);
  if (!validate(x.body)) return `${where}: body does not match ${schemaPointer}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(x.body).slice(0, 300)}`;
  return undefined;
}

function isEmpty(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && Object.keys(body).length === 0;
}

function checkError(x: Exchange, where: string): string | undefined {
  const media = x.contentType?.split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') return undefined;
  const validate = validatorFor('#/components/schemas/Error');
  return validate(x.body) ? undefined : `${where}: error body does not match #/components/schemas/Error: ${ajv.errorsText(validate.errors)}`;
}

/** The central webhook's `method` parameter from a request body (JSON, form or XML) or query. */
export function webhookMethodOf(url: string, data: unknown): string | undefined {
  if (data && typeof data === 'object' && !Buffer.isBuffer(data)) {
    const key = Object.keys(data).find((k) => k.toLowerCase() === 'method');
    const v = key && (data as Record<string, unknown>)[key];
    if (typeof v === 'string') return v;
  }
  if (typeof data === 'string') {
    const xml = /<method>([^<]*)<\/method>/i.exec(data);
    if (xml) return xml[1];
    const form = new URLSearchParams(data).get('method');
    if (form) return form;
  }
  const q = url.indexOf('?');
  return q === -1 ? undefined : (new URLSearchParams(url.slice(q + 1)).get('method') ?? undefined);
}
