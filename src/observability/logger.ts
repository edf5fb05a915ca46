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
 * The stream a logger writes to, for lines built without pino (the request line,
 * src/http/requestLog.ts): written there, they keep their order with the logger's own lines.
 */
export function logStream(logger: Logger): DestinationStream {
  return (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!;
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
