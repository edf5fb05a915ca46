import type { Db } from '../db/open.js';

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
  custom: boolean;
  createdAt: number;
  expiresAt: number | null;
}

/** Visits counted in memory and written in one batch. */
export type VisitBatch = Map<string, { count: number; lastAt: number }>;

/** Links are public and stage-less (`/{code}`); they live in the 'prod' stage (see 030_shorturl.sql). */
const STAGE = 'prod';

/** Storage of short links, statements prepared once. */
export class ShortUrlRepo {
  private readonly insertStmt;
  private readonly sameLinkStmt;
  private readonly byCodeStmt;
  private readonly addVisitsStmt;
  private readonly addVisitsTx;

  constructor(db: Db) {
    // DO NOTHING only covers uniqueness conflicts (a taken code/slug or an existing same link);
    // NOT NULL and CHECK failures still raise.
    this.insertStmt = db.prepare(
      `INSERT INTO short_urls (stage, code, token_hash, long_url, custom, created_at, expires_at)
       VALUES ('${STAGE}', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.sameLinkStmt = db
      .prepare(
        `SELECT code FROM short_urls
         WHERE stage = '${STAGE}' AND token_hash = ? AND long_url = ? AND ifnull(expires_at, 0) = ? AND custom = 0`,
      )
      .pluck();
    this.byCodeStmt = db.prepare(
      `SELECT code, token_hash AS tokenHash, long_url AS longUrl, created_at AS createdAt, expires_at AS expiresAt,
              visits, last_visit_at AS lastVisitAt
       FROM short_urls WHERE stage = '${STAGE}' AND code = ?`,
    );
    this.addVisitsStmt = db.prepare(
      `UPDATE short_urls SET visits = visits + ?, last_visit_at = max(ifnull(last_visit_at, 0), ?)
       WHERE stage = '${STAGE}' AND code = ?`,
    );
    this.addVisitsTx = db.transaction((batch: VisitBatch) => {
      for (const [code, v] of batch) this.addVisitsStmt.run(v.count, v.lastAt, code);
    });
  }

  /** Insert unless the code is taken or the same generated link exists; true when inserted. */
  insert(link: NewLink): boolean {
    const r = this.insertStmt.run(link.code, link.tokenHash, link.longUrl, link.custom ? 1 : 0, link.createdAt, link.expiresAt);
    return r.changes === 1;
  }

  /** The generated code of the same token + long URL + expiry, if any. */
  sameLink(tokenHash: string, longUrl: string, expiresAt: number | null): string | undefined {
    return this.sameLinkStmt.get(tokenHash, longUrl, expiresAt ?? 0) as string | undefined;
  }

  byCode(code: string): LinkRow | undefined {
    return this.byCodeStmt.get(code) as LinkRow | undefined;
  }

  /** Add a batch of visits in one transaction: all of it is applied or none. */
  addVisits(batch: VisitBatch): void {
    this.addVisitsTx(batch);
  }
}
