import { isLoopback } from '../http/access.js';
import type { Config } from '../config.js';
import { describePgUrl } from '../db/pg.js';

/**
 * What the `listening` log line says and which `warn` lines follow it (docs/http.md §8.1): enough
 * for an operator to see from the log alone how this instance is set up, and every risky setting
 * named once. No secret is ever part of either.
 */

export interface ListeningFields {
  url: string;
  database: { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };
  dialers: { prod: string; test: string };
  admin: 'token' | 'loopback only';
  board: 'token' | 'admin token only';
  trustProxy: Config['TRUST_PROXY'];
  tls: boolean;
  ivrSignatures: string[];
}

/** The name of the dialer `prod` uses; `test` always records. */
export function prodDialerName(config: Config): string {
  return config.DIALER;
}

export function listeningFields(config: Config, url: string): ListeningFields {
  const signatures: string[] = [];
  if (config.TWILIO_AUTH_TOKEN) signatures.push('twilio');
  if (config.PLIVO_AUTH_TOKEN) signatures.push('plivo');
  if (config.TELNYX_PUBLIC_KEY) signatures.push('telnyx');
  return {
    url,
    database: config.DATABASE_URL
      ? { engine: 'postgres', url: describePgUrl(config.DATABASE_URL) }
      : { engine: 'sqlite', path: config.DATABASE_PATH },
    dialers: { prod: prodDialerName(config), test: 'record' },
    admin: config.ADMIN_TOKEN ? 'token' : 'loopback only',
    board: config.BOARD_TOKEN ? 'token' : 'admin token only',
    trustProxy: config.TRUST_PROXY,
    tls: Boolean(config.TLS_CERT_FILE && config.TLS_KEY_FILE),
    ivrSignatures: signatures,
  };
}

/** The default short-URL token is public knowledge: anyone who reads the README can create links. */
export const DEFAULT_SHORTURL_TOKEN = 'abcd1234';

export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.SHORTURL_TOKENS.has(DEFAULT_SHORTURL_TOKEN)) {
    warnings.push(`SHORTURL_TOKENS accepts the default token ${DEFAULT_SHORTURL_TOKEN}: anyone who knows it can create short links; set your own tokens`);
  }
  if (prodDialerName(config) === 'record') {
    warnings.push('the prod stage has no platform dialer: outbound contacts are only recorded, nobody is called; set DIALER or DIALER_URL');
  }
  if (!config.ADMIN_TOKEN && !isLoopbackHost(config.HOST)) {
    warnings.push(`HOST=${config.HOST} is reachable from other machines but ADMIN_TOKEN is unset: the admin API and board serve loopback callers only; set ADMIN_TOKEN`);
  }
  return warnings;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopback(host.replace(/^\[|\]$/g, ''));
}
