import { createHmac } from 'node:crypto';

/**
 * Signature of a change notification, in the scheme Stripe uses for its webhooks: the signed
 * payload is `${timestamp}.${body}` (timestamp in whole seconds since the epoch, body the exact
 * bytes sent), the MAC is HMAC-SHA256 keyed with EVENTS_WEBHOOK_SECRET, hex encoded. A receiver
 * recomputes it over the raw body, compares in constant time and rejects timestamps older than a
 * few minutes, which also defeats replays.
 */

export const TIMESTAMP_HEADER = 'X-Central-Timestamp';
export const SIGNATURE_HEADER = 'X-Central-Signature';
export const EVENT_ID_HEADER = 'X-Central-Event-Id';

export function signNotification(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
}

/** `X-Central-Signature: t=<timestamp>,v1=<hex>`; `v1` names the scheme so it can change later. */
export function signatureHeaders(secret: string, timestampS: number, body: string): Record<string, string> {
  return {
    [TIMESTAMP_HEADER]: String(timestampS),
    [SIGNATURE_HEADER]: `t=${timestampS},v1=${signNotification(secret, timestampS, body)}`,
  };
}
