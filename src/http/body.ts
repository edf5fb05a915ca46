import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from './errors.js';
import { parseJson } from './json.js';
import { decodeXmlBytes, parseXml, xmlToParams, type XmlObject } from '../xml/parse.js';

/**
 * Reading and decoding request bodies (docs/http.md §1.1, 1.5). The raw bytes are read once with
 * Express's raw parser (64 KiB limit applied after gzip/deflate inflation), then decoded by
 * media type. The result is left in `res.locals.input` for the params layer.
 */

export const MAX_BODY_BYTES = 64 * 1024;

export type BodyKind = 'none' | 'json' | 'form' | 'xml' | 'csv';

export interface RequestInput {
  kind: BodyKind;
  /** Parameters from the body: a JSON object's members, form fields, or XML child elements. */
  fields: Record<string, unknown> | [string, string][];
  /** JSON value when the body is JSON (may be an array, e.g. an agent import). */
  json?: unknown;
  /** The parsed XML tree `{root: …}` when the body is XML. */
  xml?: XmlObject;
  /** Decoded text for CSV bodies. */
  text?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      input?: RequestInput;
      /** What the body was declared as, known even when it fails to parse (drives reply format). */
      bodyKind?: BodyKind;
    }
  }
}

const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

interface MediaType {
  type: string;
  charset?: string;
}

function mediaType(req: Request): MediaType | undefined {
  const header = req.headers['content-type'];
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p);
    if (m) charset = m[1]!.toLowerCase();
  }
  return { type: type!.trim().toLowerCase(), charset };
}

function kindOf(type: string, allowCsv: boolean): BodyKind | undefined {
  if (type === 'application/json' || /^[a-z]+\/[a-z0-9.+-]+\+json$/.test(type)) return 'json';
  if (type === 'application/xml' || type === 'text/xml' || /^[a-z]+\/[a-z0-9.+-]+\+xml$/.test(type)) return 'xml';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (allowCsv && type === 'text/csv') return 'csv';
  return undefined;
}

function decodeText(bytes: Buffer, kind: BodyKind): string {
  if (kind === 'xml') return decodeXmlBytes(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    if (kind === 'json') throw new AppError('INVALID_JSON', 'JSON body is not valid UTF-8');
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'body is not valid UTF-8');
  }
}

/** Decode the body's bytes by the request's media type (`mediaType(req)`, read once per request). */
export function decodeBody(media: MediaType | undefined, bytes: Buffer | undefined, allowCsv = false): RequestInput {
  if (!bytes || bytes.length === 0) return { kind: 'none', fields: [] };
  const kind = media && kindOf(media.type, allowCsv);
  if (!media || !kind) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json, application/x-www-form-urlencoded, application/xml or text/xml${allowCsv ? ' or text/csv' : ''}`,
    );
  }
  if (media.charset && !['utf-8', 'utf8', 'us-ascii'].includes(media.charset)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'only the UTF-8 charset is accepted');
  }
  const text = decodeText(bytes, kind);
  switch (kind) {
    case 'json': {
      const json = parseJson(text, 'body');
      const fields = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
      return { kind, fields, json };
    }
    case 'xml': {
      const xml = parseXml(text);
      const root = Object.values(xml)[0]!;
      return { kind, fields: xmlToParams(root), xml };
    }
    case 'form': {
      const fields = [...new URLSearchParams(text)];
      // `curl -d '{"method":…}'` sends JSON as a form; say so instead of "method is required" (docs/http.md §8.4).
      if (fields.length === 1 && /^\s*[{<]/.test(fields[0]![0])) {
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          'the body looks like JSON or XML but Content-Type is application/x-www-form-urlencoded; send Content-Type: application/json or application/xml',
        );
      }
      return { kind, fields };
    }
    case 'csv':
      return { kind, fields: [], text };
    default:
      return { kind: 'none', fields: [] };
  }
}

function bodyParserError(err: unknown, kind: BodyKind | undefined): AppError {
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', `body must be at most ${MAX_BODY_BYTES} bytes`);
  if (type === 'encoding.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding must be gzip, deflate or identity');
  if (type === 'charset.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE', 'only the UTF-8 charset is accepted');
  // A body that cannot be read or inflated is malformed in its declared format.
  if (kind === 'json') return new AppError('INVALID_JSON', 'the request body could not be read or inflated');
  if (kind === 'xml') return new AppError('INVALID_XML', 'the request body could not be read or inflated');
  return new AppError('INVALID_PARAMETER', 'the request body could not be read or inflated');
}

/** Middleware: read and decode the body into `res.locals.input`. */
export function readBody(options: { allowCsv?: boolean } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const media = mediaType(req);
    res.locals.bodyKind = media ? kindOf(media.type, options.allowCsv ?? false) : undefined;
    rawBody(req, res, (err?: unknown) => {
      if (err) return next(bodyParserError(err, res.locals.bodyKind));
      try {
        res.locals.input = decodeBody(media, Buffer.isBuffer(req.body) ? req.body : undefined, options.allowCsv);
        next();
      } catch (e) {
        next(e);
      }
    });
  };
}
