import { iso, type Clock } from '../clock.js';
import { AppError } from '../http/errors.js';
import type { Metrics } from '../observability/metrics.js';
import { randomCode } from './code.js';
import { LruCache } from '../lruCache.js';
import type { ShortUrlStore } from './shorturl.store.js';
import type { TokenEntry } from './tokens.js';
import type { VisitCounter } from './visitCounter.js';

export interface CreateInput {
  token: TokenEntry;
  /** Already checked by `checkLongUrl`. */
  longUrl: string;
  /** Already checked by `checkSlug`. */
  slug?: string;
  /** Already checked to be in the future. */
  expiresAt?: number;
}

/**
 * What a redirect needs. A link never changes after creation, but it can be deleted, on this
 * instance or another one: an entry is used for at most CACHE_TTL_MS after it was read, then the
 * database is asked again (docs/http.md §3, §11). Expiry needs no re-read: `expiresAt` is cached.
 */
interface CachedLink {
  longUrl: string;
  expiresAt: number | null;
  /** When it was read from the database. */
  cachedAt: number;
}

/** How long a deleted link may still redirect on an instance that had it cached (docs/http.md §11). */
export const CACHE_TTL_MS = 2_000;

export type Resolution = { kind: 'redirect'; longUrl: string } | { kind: 'gone' } | { kind: 'unknown' };

export interface LinkStats {
  shortUrl: string;
  longUrl: string;
  visits: number;
  createdAt: string;
  lastVisitAt: string | null;
}

export interface ShortUrlServiceOptions {
  /** Links kept in memory for redirects. */
  cacheSize?: number;
  /** Code generator (tests inject collisions). */
  newCode?: () => string;
}

const MAX_CODE_ATTEMPTS = 10;

export class ShortUrlService {
  private readonly cache: LruCache<string, CachedLink>;
  private readonly newCode: () => string;
  /** Counters bound to their label once, off the redirect's hot path. */
  private readonly counted;

  constructor(
    private readonly store: ShortUrlStore,
    private readonly visits: VisitCounter,
    private readonly clock: Clock,
    metrics: Metrics,
    options: ShortUrlServiceOptions = {},
  ) {
    this.cache = new LruCache(options.cacheSize ?? 10_000);
    this.newCode = options.newCode ?? randomCode;
    this.counted = {
      created: metrics.shortUrlCreations.labels('created'),
      existing: metrics.shortUrlCreations.labels('existing'),
      redirect: metrics.shortUrlRedirects.labels('redirect'),
      notFound: metrics.shortUrlRedirects.labels('not_found'),
      gone: metrics.shortUrlRedirects.labels('gone'),
    };
  }

  /**
   * Create a link, or return the generated link of the same token + long URL + expiry.
   * Uniqueness is left to the database: insert first, and on a conflict either the same link
   * exists (return it), the slug is taken (409), or a generated code collided (try another).
   */
  async create(input: CreateInput): Promise<{ code: string; shortUrl: string; created: boolean }> {
    const { token, longUrl, slug } = input;
    const expiresAt = input.expiresAt ?? null;
    const createdAt = this.clock.now();
    const shortUrl = (code: string) => `${token.base}/${code}`;
    for (let attempt = 0; attempt < MAX_CODE_ATTEMPTS; attempt++) {
      const code = slug ?? this.newCode();
      const stored = await this.store.insert({ code, tokenHash: token.hash, longUrl, custom: slug !== undefined, createdAt, expiresAt });
      if (stored.kind === 'inserted') {
        // Not cached here: an entry serves redirects for CACHE_TTL_MS only, and a new link is
        // rarely visited that soon; caching every creation filled the cache with entries that
        // lived just long enough to be copied through the young generation and then collected
        // as old garbage, the longest GC pauses under creation load (docs/http.md §8.7).
        this.counted.created.inc();
        return { code, shortUrl: shortUrl(code), created: true };
      }
      if (slug !== undefined) throw new AppError('SLUG_TAKEN', `customSlug "${slug}" is already in use`, 'customSlug');
      const existing = stored.sameLink;
      if (existing !== undefined) {
        this.counted.existing.inc();
        return { code: existing, shortUrl: shortUrl(existing), created: false };
      }
    }
    throw new Error('could not find a free short code');
  }

  /** Where `/{code}` leads now; a GET (`countVisit`) that redirects counts one visit. */
  async resolve(code: string, countVisit: boolean): Promise<Resolution> {
    const known = this.resolveCached(code, countVisit);
    if (known) return known;
    const readAt = this.clock.now();
    const row = await this.store.byCode(code);
    if (!row) {
      this.cache.delete(code);
      this.counted.notFound.inc();
      return { kind: 'unknown' };
    }
    const link = { longUrl: row.longUrl, expiresAt: row.expiresAt, cachedAt: readAt };
    this.cache.set(code, link);
    return this.decide(code, link, countVisit, this.clock.now());
  }

  /**
   * `resolve` answered from the cache alone, without waiting (the redirect's hot path), or
   * undefined when the link is not cached or was read more than CACHE_TTL_MS ago.
   */
  resolveCached(code: string, countVisit: boolean): Resolution | undefined {
    const link = this.cache.get(code);
    if (!link) return undefined;
    const now = this.clock.now();
    if (now - link.cachedAt >= CACHE_TTL_MS) return undefined;
    return this.decide(code, link, countVisit, now);
  }

  private decide(code: string, link: CachedLink, countVisit: boolean, now: number): Resolution {
    if (link.expiresAt !== null && now >= link.expiresAt) {
      this.counted.gone.inc();
      return { kind: 'gone' };
    }
    if (countVisit) this.visits.record(code, now);
    this.counted.redirect.inc();
    return { kind: 'redirect', longUrl: link.longUrl };
  }

  /**
   * Delete a link (docs/http.md §6): it stops redirecting here at once and on every other instance
   * within CACHE_TTL_MS; its counts go with it. False when there is no such link.
   */
  async remove(code: string): Promise<boolean> {
    const deleted = await this.store.delete(code);
    this.cache.delete(code);
    this.visits.forget(code);
    return deleted;
  }

  /** Stats of a link for the token that created it; undefined for anyone else, as for no link. */
  async stats(code: string, token: TokenEntry): Promise<LinkStats | undefined> {
    const row = await this.store.byCode(code);
    if (!row || row.tokenHash !== token.hash) return undefined;
    const pending = this.visits.pendingFor(code);
    const lastVisitAt = Math.max(row.lastVisitAt ?? 0, pending?.lastAt ?? 0);
    return {
      shortUrl: `${token.base}/${row.code}`,
      longUrl: row.longUrl,
      visits: row.visits + (pending?.count ?? 0),
      createdAt: iso(row.createdAt),
      lastVisitAt: lastVisitAt > 0 ? iso(lastVisitAt) : null,
    };
  }
}
