import { createHash } from 'node:crypto';
import { secretsEqual } from '../http/access.js';

/** A configured short-URL token, known by its hash, with the base its links are shown under. */
export interface TokenEntry {
  hash: string;
  base: string;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The tokens of `SHORTURL_TOKENS`, each with its custom domain or `SHORTURL_BASE_URL`. */
export class TokenBook {
  private readonly entries: (TokenEntry & { token: string })[];

  constructor(tokens: ReadonlyMap<string, string | undefined>, defaultBase: string) {
    this.entries = [...tokens].map(([token, domain]) => ({ token, hash: hashToken(token), base: domain ?? defaultBase }));
  }

  /** The entry for a presented token. Every configured token is compared, in constant time each. */
  find(given: string): TokenEntry | undefined {
    let found: TokenEntry | undefined;
    for (const e of this.entries) {
      if (secretsEqual(given, e.token) && !found) found = { hash: e.hash, base: e.base };
    }
    return found;
  }

  bases(): string[] {
    return this.entries.map((e) => e.base);
  }
}
