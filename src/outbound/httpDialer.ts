import type { Dialer, DialOutcome, DialRequest } from './dialer.js';
import { platformRequest, refusal } from './platformFetch.js';

/**
 * The HTTP dialer (DIALER=http): one JSON POST per attempt to `DIALER_URL`, with the contact's
 * idempotency key in the body and in an `Idempotency-Key` header, and the contact's `keys` and
 * `category` in the body. 2xx confirms the call; 429 waits for its Retry-After; 5xx, a timeout or
 * a connection error may be retried; any other status is a refusal. Credentials in the URL
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
    // The platform callback URL is ours to use; the HTTP dialer reports no outcome back.
    const { statusCallbackUrl: _unused, ...body } = request;
    const reply = await platformRequest('dialer', this.url, { method: 'POST', headers, body: JSON.stringify(body) }, this.timeoutMs, stop);
    if ('error' in reply) return { kind: 'retry', error: reply.error };
    if (reply.status >= 200 && reply.status < 300) return { kind: 'dispatched' };
    return refusal('dialer', reply);
  }
}
