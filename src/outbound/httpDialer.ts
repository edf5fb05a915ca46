import type { Dialer, DialOutcome, DialRequest } from './dialer.js';

/**
 * The HTTP dialer: one JSON POST per attempt to `DIALER_URL`, with the contact's idempotency key
 * in the body and in an `Idempotency-Key` header. 2xx confirms the call; 5xx, a timeout or a
 * connection error may be retried; any other status is a refusal. Credentials in the URL
 * (`https://user:pass@host/…`) are sent as Basic auth, since fetch refuses them in the URL, and
 * never appear in an error message.
 */
export class HttpDialer implements Dialer {
  private readonly url: string;
  private readonly authorization: string | undefined;

  constructor(url: string, private readonly timeoutMs: number) {
    const u = new URL(url);
    this.authorization =
      u.username || u.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
        : undefined;
    u.username = '';
    u.password = '';
    this.url = u.toString();
  }

  async dial(request: DialRequest, stop?: AbortSignal): Promise<DialOutcome> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': request.idempotencyKey,
      'user-agent': 'central-webhooks-dialer',
    };
    if (this.authorization) headers.authorization = this.authorization;
    // One controller per attempt for both the timeout and a shutdown, so nothing stays attached
    // to the long-lived stop signal once the attempt is over.
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new DOMException('dialer timeout', 'TimeoutError')), this.timeoutMs);
    const onStop = () => attempt.abort(new DOMException('service stopping', 'AbortError'));
    stop?.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(request),
        redirect: 'manual',
        signal: attempt.signal,
      });
      // Read the body so the connection can be reused; the same timeout covers it.
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 300) return { kind: 'dispatched' };
      if (res.status >= 500) return { kind: 'retry', error: `dialer answered HTTP ${res.status}` };
      return { kind: 'failed', error: `dialer refused with HTTP ${res.status}` };
    } catch (e) {
      return { kind: 'retry', error: describe(e, this.timeoutMs) };
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    }
  }
}

function describe(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return `dialer did not answer within ${timeoutMs} ms`;
  if (err?.name === 'AbortError') return 'dispatch interrupted by shutdown before the dialer answered';
  const code = err?.cause?.code;
  return code ? `dialer connection failed (${code})` : 'dialer connection failed';
}
