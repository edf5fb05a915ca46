import type { Db } from '../db/open.js';
import type { InsertResult, LinkRow, NewLink, ShortUrlStore, VisitBatch } from './shorturl.store.js';

/** Links are public and stage-less (`/{code}`); they live in the 'prod' stage (see 030_shorturl.sql). */
const STAGE = 'prod';

/** Short links on SQLite (table short_urls, migration 030). */
export class SqliteShortUrlStore implements ShortUrlStore {
  private readonly insertStmt;
  private readonly insertTx;
  private readonly sameLinkStmt;
  private readonly byCodeStmt;
  private readonly deleteStmt;
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
    this.deleteStmt = db.prepare(`DELETE FROM short_urls WHERE stage = '${STAGE}' AND code = ?`);
    this.addVisitsStmt = db.prepare(
      `UPDATE short_urls SET visits = visits + ?, last_visit_at = max(ifnull(last_visit_at, 0), ?)
       WHERE stage = '${STAGE}' AND code = ?`,
    );
    this.addVisitsTx = db.transaction((batch: VisitBatch) => {
      for (const [code, v] of batch) this.addVisitsStmt.run(v.count, v.lastAt, code);
    });
    this.insertTx = db.transaction((link: NewLink): InsertResult => {
      const r = this.insertStmt.run(link.code, link.tokenHash, link.longUrl, link.custom ? 1 : 0, link.createdAt, link.expiresAt);
      if (r.changes === 1) return { kind: 'inserted' };
      if (link.custom) return { kind: 'taken' };
      const same = this.sameLinkStmt.get(link.tokenHash, link.longUrl, link.expiresAt ?? 0) as string | undefined;
      return same === undefined ? { kind: 'taken' } : { kind: 'taken', sameLink: same };
    });
  }

  async insert(link: NewLink): Promise<InsertResult> {
    return this.insertTx.immediate(link);
  }

  async byCode(code: string): Promise<LinkRow | undefined> {
    return this.byCodeStmt.get(code) as LinkRow | undefined;
  }

  async delete(code: string): Promise<boolean> {
    return this.deleteStmt.run(code).changes === 1;
  }

  async addVisits(batch: VisitBatch): Promise<void> {
    this.addVisitsTx.immediate(batch);
  }
}
