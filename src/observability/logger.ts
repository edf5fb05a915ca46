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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`), 'req.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
