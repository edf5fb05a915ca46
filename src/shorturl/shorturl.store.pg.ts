import type { PgPool } from '../db/pg.js';
import type { InsertResult, LinkRow, NewLink, ShortUrlStore, VisitBatch } from './shorturl.store.js';

/** Links are public and stage-less (`/{code}`); they live in the 'prod' stage (see 030_shorturl.sql). */
const STAGE = 'prod';

/**
 * Short links on PostgreSQL (docs/http.md §11). Visit counts from every instance add up exactly:
 * each batch is an increment (`visits = visits + n`) in one statement, rows taken in code order so
 * two instances' batches never deadlock.
 */
export class PgShortUrlStore implements ShortUrlStore {
  constructor(private readonly pool: PgPool) {}

  async insert(link: NewLink): Promise<InsertResult> {
    // One statement, no transaction block (it is atomic on its own). DO NOTHING covers only
    // uniqueness conflicts (a taken code/slug, an existing same link); a conflicting insert still
    // being committed elsewhere is waited for, so the read after a conflict finds it.
    const r = await this.pool.query({
      name: 'shorturl.insert',
      text: `INSERT INTO short_urls (stage, code, token_hash, long_url, custom, created_at, expires_at)
             VALUES ('${STAGE}', $1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      values: [link.code, link.tokenHash, link.longUrl, link.custom, link.createdAt, link.expiresAt],
    });
    if (r.rowCount === 1) return { kind: 'inserted' };
    if (link.custom) return { kind: 'taken' };
    const same = await this.pool.query<{ code: string }>({
      name: 'shorturl.sameLink',
      text: `SELECT code FROM short_urls
              WHERE stage = '${STAGE}' AND token_hash = $1 AND long_url = $2 AND COALESCE(expires_at, 0) = $3 AND NOT custom`,
      values: [link.tokenHash, link.longUrl, link.expiresAt ?? 0],
    });
    return same.rows[0] ? { kind: 'taken', sameLink: same.rows[0].code } : { kind: 'taken' };
  }

  async byCode(code: string): Promise<LinkRow | undefined> {
    const r = await this.pool.query<LinkRow>({
      name: 'shorturl.byCode',
      text: `SELECT code, token_hash AS "tokenHash", long_url AS "longUrl", created_at AS "createdAt", expires_at AS "expiresAt",
                    visits, last_visit_at AS "lastVisitAt"
               FROM short_urls WHERE stage = '${STAGE}' AND code = $1`,
      values: [code],
    });
    return r.rows[0];
  }

  async delete(code: string): Promise<boolean> {
    const r = await this.pool.query(`DELETE FROM short_urls WHERE stage = '${STAGE}' AND code = $1`, [code]);
    return r.rowCount === 1;
  }

  async addVisits(batch: VisitBatch): Promise<void> {
    if (batch.size === 0) return;
    const entries = [...batch].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    await this.pool.query(
      `UPDATE short_urls s SET visits = s.visits + v.n, last_visit_at = GREATEST(COALESCE(s.last_visit_at, 0), v.at)
         FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x(code, n, at) ORDER BY code) v
        WHERE s.stage = '${STAGE}' AND s.code = v.code`,
      [entries.map(([c]) => c), entries.map(([, v]) => v.count), entries.map(([, v]) => v.lastAt)],
    );
  }
}
