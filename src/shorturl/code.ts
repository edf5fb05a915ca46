import { randomFillSync } from 'node:crypto';

/** Generated short codes: 8 characters of [A-Za-z0-9] from the CSPRNG (docs/http.md §3). */

export const CODE_LENGTH = 8;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// 248 = 4 × 62: bytes at or above it are dropped, so every character is equally likely
// (a plain `byte % 62` would favour the first 8 characters).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/**
 * CSPRNG bytes drawn 4 KiB at a time, as Node's own `randomUUID` does: one call into OpenSSL per
 * ~500 codes instead of one per code (about 2 µs each, issue 15). Each byte is used once.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;

function randomByte(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]!;
}

export function randomCode(): string {
  let code = '';
  while (code.length < CODE_LENGTH) {
    const byte = randomByte();
    if (byte < UNBIASED_LIMIT) code += ALPHABET[byte % ALPHABET.length];
  }
  return code;
}
