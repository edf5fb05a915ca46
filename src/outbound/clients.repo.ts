import type { Db } from '../db/open.js';
import type { Stage } from '../http/routing.js';

export interface OutboundClient {
  stage: Stage;
  clientID: string;
  /** SHA-256 of the securityID (docs/http.md §7.4); the securityID itself is never stored. */
  securityIdHash: string;
  flows: string[];
  createdAt: number;
  updatedAt: number;
}

interface ClientRow {
  stage: Stage;
  client_id: string;
  security_id_sha256: string;
  flows: string;
  created_at: number;
  updated_at: number;
}

/** Outbound API clients per stage (docs/http.md §6). */
export class ClientsRepo {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly upsertTx;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare<[Stage, string], ClientRow>('SELECT * FROM outbound_clients WHERE stage = ? AND client_id = ?');
    this.insertStmt = db.prepare(
      `INSERT INTO outbound_clients (stage, client_id, security_id_sha256, flows, created_at, updated_at)
       VALUES (@stage, @clientID, @securityIdHash, @flows, @now, @now)`,
    );
    this.updateStmt = db.prepare(
      `UPDATE outbound_clients SET security_id_sha256 = @securityIdHash, flows = @flows, updated_at = @now
       WHERE stage = @stage AND client_id = @clientID`,
    );
    this.upsertTx = db.transaction(
      (args: { stage: Stage; clientID: string; securityIdHash: string; flows: string; now: number }): boolean => {
        if (this.updateStmt.run(args).changes === 1) return false;
        this.insertStmt.run(args);
        return true;
      },
    );
  }

  get(stage: Stage, clientID: string): OutboundClient | undefined {
    const row = this.getStmt.get(stage, clientID);
    return row && toClient(row);
  }

  /** Create or replace; true when the client is new. `securityIdHash` from hashSecurityId(). */
  put(stage: Stage, clientID: string, securityIdHash: string, flows: string[], now: number): { created: boolean; client: OutboundClient } {
    const created = this.upsertTx.immediate({ stage, clientID, securityIdHash, flows: JSON.stringify(flows), now });
    return { created, client: this.get(stage, clientID)! };
  }
}

function toClient(row: ClientRow): OutboundClient {
  return {
    stage: row.stage,
    clientID: row.client_id,
    securityIdHash: row.security_id_sha256,
    flows: JSON.parse(row.flows) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
