import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A client's securityID at rest (docs/http.md §7.4): only its SHA-256 is stored, as 64 hex
 * digits, and a given securityID is checked by hashing it and comparing the digests in constant
 * time. A security ID is 64 characters chosen for the client, an API secret rather than a
 * password, so a fast unsalted digest is the usual choice (as for API tokens): the stored value
 * cannot be replayed, and nothing derived from it is ever returned.
 * Migration 055_security_id_hash.sql converts rows written before, with the same function
 * (registered on the SQLite connection as `sha256_hex`).
 */

export function hashSecurityId(securityID: string): string {
  return createHash('sha256').update(securityID, 'utf8').digest('hex');
}

/** Whether `given` hashes to `storedHash`; constant time in the hash comparison. */
export function securityIdMatches(given: string, storedHash: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = Buffer.from(storedHash, 'hex');
  return b.length === a.length && timingSafeEqual(a, b);
}
