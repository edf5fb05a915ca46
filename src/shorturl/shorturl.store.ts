/**
 * Storage of short links and their visit counts (docs/http.md §3). Each method is one whole change
 * or read, its transaction inside the store. Engines: shorturl.store.sqlite.ts, shorturl.store.pg.ts.
 */

/** A stored short link. Times are ms since the epoch. */
export interface LinkRow {
  code: string;
  tokenHash: string;
  longUrl: string;
  createdAt: number;
  expiresAt: number | null;
  visits: number;
  lastVisitAt: number | null;
}

export interface NewLink {
  code: string;
  tokenHash: string;
  longUrl: string;
  /** A customSlug (else a generated code). */
  custom: boolean;
  createdAt: number;
  expiresAt: number | null;
}

/** Visits counted in memory and written in one batch. */
export type VisitBatch = Map<string, { count: number; lastAt: number }>;

/**
 * What storing a link came to: `inserted`; or the code is taken, and for a generated code the
 * code of an existing generated link with the same token, long URL and expiry (`sameLink`), if any.
 */
export type InsertResult = { kind: 'inserted' } | { kind: 'taken'; sameLink?: string };

export interface ShortUrlStore {
  /** Insert unless the code is taken; on a conflict, look up the same generated link in the same transaction. */
  insert(link: NewLink): Promise<InsertResult>;
  byCode(code: string): Promise<LinkRow | undefined>;
  /** Delete a link with its counts; false when there was none. */
  delete(code: string): Promise<boolean>;
  /** Add a batch of visits in one transaction: all of it is applied or none. */
  addVisits(batch: VisitBatch): Promise<void>;
}
