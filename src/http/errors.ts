/** The one error type every layer throws; the responder turns it into the contract's envelope. */

export const ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_XML: 400,
  MISSING_PARAMETER: 400,
  INVALID_PARAMETER: 400,
  UNKNOWN_METHOD: 400,
  UNSUPPORTED_API_VERSION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN_IP: 403,
  HTTPS_REQUIRED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  FLOW_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  SLUG_TAKEN: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MISDIRECTED_REQUEST: 421,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  [extra: string]: unknown;
}

/** docs/http.md §7.4: an error message is at most 300 characters and quotes at most 64 of the input. */
export const MAX_MESSAGE_CHARS = 300;
export const MAX_QUOTE_CHARS = 64;
/** A `field` names a parameter, which may itself be input (a user key `$user.key.NAME`, a mapping variable). */
export const MAX_FIELD_CHARS = 128;

/** `text` cut to at most `max` code points, ending in `…` when cut (linear only in `max`). */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = [...text.slice(0, max * 2)];
  if (head.length <= max && text.length <= max * 2) return text;
  return `${head.slice(0, max - 1).join('')}…`;
}

/** Input text quoted in a message: at most MAX_QUOTE_CHARS code points. */
export const quote = (input: string): string => cut(input, MAX_QUOTE_CHARS);

const boundedMessage = (message: string): string => cut(message, MAX_MESSAGE_CHARS);

/**
 * An answer the contract defines (a refusal, a missing parameter…), not a fault: it carries no
 * stack. Capturing one is most of what constructing an Error costs, and an AppError's stack is
 * never logged or sent (errorHandler logs only the type and code of other errors).
 */
export class AppError extends Error {
  readonly status: number;
  /** The parameter at fault; at most MAX_FIELD_CHARS code points of it. */
  readonly field?: string;
  readonly code: ErrorCode;
  /** Extra members of the `error` object, e.g. `invalid` numbers. */
  readonly extra: Record<string, unknown>;
  /** Response headers such as Retry-After or Allow. */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, field?: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const stackFrames = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(boundedMessage(message));
    Error.stackTraceLimit = stackFrames;
    this.code = code;
    this.extra = extra;
    this.headers = headers;
    this.status = ERROR_STATUS[code];
    if (field !== undefined) this.field = cut(field, MAX_FIELD_CHARS);
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    return Object.assign(body, this.extra);
  }
}

export const missing = (field: string) => new AppError('MISSING_PARAMETER', `${field} is required`, field);
export const invalid = (field: string, message: string) => new AppError('INVALID_PARAMETER', message, field);
export const rateLimited = (retryAfterSeconds: number, message = 'too many requests, try again later') =>
  new AppError('RATE_LIMITED', message, undefined, {}, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
