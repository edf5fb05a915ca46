import type { DialOutcome } from './dialer.js';

/**
 * The HTTP exchange every fetch-based dialer shares (HTTP, Plivo, Exotel): one request with a
 * timeout and the service's stop signal, the body read under the same timeout, and the reply's
 * status turned into a dial outcome (docs/http.md §2.3, §9). Error texts name the platform and
 * the status, never a URL, a credential or a number.
 */

export interface PlatformReply {
  status: number;
  headers: Headers;
  text: string;
}

/** When a 429 carries no usable Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;
/** A Retry-After beyond this is taken as this (the contact is tried again, not parked for hours). */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function retryAfterMs(value: string | null | undefined, nowMs: number = Date.now()): number {
  if (value === null || value === undefined) return DEFAULT_RETRY_AFTER_MS;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** One request; a network error, a timeout or the stop signal comes back as `{error}`. */
export async function platformRequest(
  platform: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<PlatformReply | { error: string }> {
  // One controller per attempt for both the timeout and a shutdown, so nothing stays attached
  // to the long-lived stop signal once the attempt is over.
  const attempt = new AbortController();
  const timer = setTimeout(() => attempt.abort(new DOMException('dialer timeout', 'TimeoutError')), timeoutMs);
  const onStop = () => attempt.abort(new DOMException('service stopping', 'AbortError'));
  if (stop?.aborted) onStop();
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    const res = await fetch(url, { ...init, redirect: 'manual', signal: attempt.signal });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (e) {
    return { error: describeFailure(platform, e, timeoutMs) };
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}

/** A non-2xx reply as an outcome: 429 throttled, 5xx retried, any other status refused. */
export function refusal(platform: string, reply: PlatformReply, detail = ''): DialOutcome {
  const suffix = detail ? ` (${detail})` : '';
  if (reply.status === 429) {
    return { kind: 'throttled', retryAfterMs: retryAfterMs(reply.headers.get('retry-after')), error: `${platform} answered HTTP 429${suffix}` };
  }
  if (reply.status >= 500) return { kind: 'retry', error: `${platform} answered HTTP ${reply.status}${suffix}` };
  return { kind: 'failed', error: `${platform} refused with HTTP ${reply.status}${suffix}` };
}

export function describeFailure(platform: string, e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return `${platform} did not answer within ${timeoutMs} ms`;
  if (err?.name === 'AbortError') return 'dispatch interrupted by shutdown before the dialer answered';
  const code = err?.cause?.code ?? (err as { code?: string })?.code;
  return typeof code === 'string' && /^[A-Z_]{2,32}$/.test(code) ? `${platform} connection failed (${code})` : `${platform} connection failed`;
}

/** Parse a JSON reply body, or undefined. */
export function jsonBody(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `target` with the contact's keys appended to its query (answer URLs of Twilio Calls and Plivo). */
export function withKeys(target: string, keys: Record<string, string>): string {
  const entries = Object.entries(keys);
  if (entries.length === 0) return target;
  const u = new URL(target);
  for (const [k, v] of entries) u.searchParams.append(k, v);
  return u.toString();
}
