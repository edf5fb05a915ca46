import { createHmac, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { secretsEqual } from '../http/access.js';

/**
 * Platform request signatures (docs/http.md §4). Both are computed over the PUBLIC URL the platform
 * called (PUBLIC_BASE_URL + path + query), never the URL this process sees behind a proxy, and
 * compared in constant time. Neither scheme protects against replay; the IVR de-duplicates by
 * call id + step instead.
 */

export type FormParams = readonly (readonly [string, string])[];

const byNameThenValue = (a: readonly [string, string], b: readonly [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Twilio: HMAC-SHA1 over the URL followed by every POST parameter sorted by name, name+value; base64. */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  const data = url + [...params].sort(byNameThenValue).map(([k, v]) => k + v).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Twilio's SDK also accepts the URL with the scheme's default port added or removed. */
function portVariants(url: string): string[] {
  // Textual, because URL parsing drops a default port and so cannot tell the two spellings apart.
  const m = /^(https?):\/\/([^/?#:]+)(?::(\d+))?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, host, port, rest] = m;
  const dflt = scheme!.toLowerCase() === 'https' ? '443' : '80';
  if (port === undefined) return [url, `${scheme}://${host}:${dflt}${rest}`];
  if (port === dflt) return [url, `${scheme}://${host}${rest}`];
  return [url];
}

export function verifyTwilio(authToken: string, url: string, params: FormParams, header: string | undefined): boolean {
  if (!header) return false;
  let ok = false;
  for (const candidate of portVariants(url)) ok = secretsEqual(twilioSignature(authToken, candidate, params), header) || ok;
  return ok;
}

/**
 * Plivo V3: base `scheme://host[:port]/path`; then `?` + the URL's query pairs sorted (`k=v&k=v`)
 * when there is a query (or, for POST, a body); then `.` when a POST has both; then the POST
 * parameters sorted as name+value; then `.` + nonce. HMAC-SHA256, base64.
 */
export function plivoSignatureV3(authToken: string, method: string, url: string, params: FormParams, nonce: string): string {
  const u = new URL(url);
  let base = `${u.protocol}//${u.host}${u.pathname}`;
  const rawQuery = u.search.startsWith('?') ? u.search.slice(1) : '';
  const queryPairs = rawQuery
    .split('&')
    .filter(Boolean)
    .map((p): [string, string] => {
      const eq = p.indexOf('=');
      return eq === -1 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
    })
    .sort(byNameThenValue);
  const query = queryPairs.map(([k, v]) => `${k}=${v}`).join('&');
  const isPost = method.toUpperCase() === 'POST';
  const hasBody = isPost && params.length > 0;
  if (query.length > 0 || hasBody) base += `?${query}`;
  if (query.length > 0 && hasBody) base += '.';
  if (hasBody) base += [...params].sort(byNameThenValue).map(([k, v]) => k + v).join('');
  return createHmac('sha256', authToken).update(`${base}.${nonce}`, 'utf8').digest('base64');
}

export function verifyPlivoV3(
  authToken: string,
  method: string,
  url: string,
  params: FormParams,
  header: string | undefined,
  nonce: string | undefined,
): boolean {
  if (!header || !nonce) return false;
  const expected = plivoSignatureV3(authToken, method, url, params, nonce);
  let ok = false;
  for (const candidate of header.split(',')) ok = secretsEqual(candidate.trim(), expected) || ok;
  return ok;
}

/** DER prefix of an X.509 SubjectPublicKeyInfo for a raw 32-byte ed25519 key (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The ed25519 public key from its base64 raw form (as the Telnyx portal shows it). */
export function ed25519PublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) throw new Error('an ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Telnyx: ed25519 over `telnyx-timestamp` + `|` + the raw body; the header is the base64 signature. */
export function verifyTelnyx(publicKey: KeyObject, timestamp: string | undefined, body: Buffer, header: string | undefined): boolean {
  if (!header || !timestamp) return false;
  const signature = Buffer.from(header, 'base64');
  if (signature.length !== 64) return false;
  return verifySignature(null, Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), body]), publicKey, signature);
}
