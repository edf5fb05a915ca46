import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a receiver following the README does with a signed delivery (change notification or
 * statusCallbackUrl; README "Change notifications", docs/http.md §9.6): recompute the HMAC-SHA256 over `<t>.<raw body>` and
 * compare it with `X-Central-Signature: t=<t>,v1=<hex>`, whose `t` must be `X-Central-Timestamp`.
 * Written from the documented format, not from the service's own signing code.
 */
export function verifiesSignature(secret: string, headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, rawBody: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-central-signature'] ?? ''));
  if (!m || m[1] !== headers['x-central-timestamp']) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.${rawBody}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}
