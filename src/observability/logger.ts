import pino from 'pino';
import type { DestinationStream } from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs. Request lines carry only method, route, status, duration and request id, so no
 * body or query string (where secrets travel) is ever logged; the redaction list is the second
 * line of defence for anything a feature logs by mistake.
 */
export const REDACTED_KEYS = [
  'securityID',
  'securityId',
  'custToken',
  'authorization',
  'Authorization',
  'token',
  'secret',
  'password',
  'authToken',
  'adminToken',
];

const OPTIONS = { base: undefined, timestamp: pino.stdTimeFunctions.isoTime } as const;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      ...OPTIONS,
      redact: {
        paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`), 'req.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * A logger writing to the same stream at the same level, without the redaction list: for lines
 * whose every key is fixed by the code that writes them and none is secret-named (the request
 * line: reqId, method, route, status, durationMs, webhookMethod, code). Redaction matches keys,
 * so for such a line it can censor nothing, yet its wildcard paths cost about 10 µs a line.
 */
export function withoutRedaction(logger: Logger): Logger {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  return pino({ level: logger.level, ...OPTIONS }, stream);
}

/** Bytes of log lines gathered into one write, and the longest a line waits for its write. */
export const LOG_WRITE_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

/**
 * The service's log output (stdout by default): asynchronous, with lines gathered into writes of
 * up to LOG_WRITE_BYTES instead of one write(2) per line (a request line each request), and
 * flushed every LOG_FLUSH_MS so a quiet service's lines still appear at once. pino flushes what is
 * left synchronously when the process exits.
 */
export function logDestination(fd = 1): ReturnType<typeof pino.destination> {
  const dest = pino.destination({ dest: fd, sync: false, minLength: LOG_WRITE_BYTES });
  let closed = false;
  dest.on('close', () => (closed = true));
  const timer = setInterval(() => {
    if (!closed) dest.flush();
  }, LOG_FLUSH_MS);
  timer.unref();
  dest.on('close', () => clearInterval(timer));
  return dest;
}
