import type { Request, Response, Router } from 'express';
import type { Params } from '../http/params.js';
import type { Stage } from '../http/routing.js';

/** One method of the central webhook (docs/http.md §2). Adding a method is adding one entry. */
export interface WebhookMethod {
  name: string;
  /** The method's own result fields with their failure values, e.g. `{cli_pause_update: false}`. */
  failure: Record<string, unknown>;
  handle(ctx: MethodContext): MethodResult | Promise<MethodResult>;
}

export interface MethodContext {
  stage: Stage;
  params: Params;
  req: Request;
  res: Response;
}

export interface MethodResult {
  status?: number;
  body: Record<string, unknown>;
}

/** A feature contributes webhook methods, routes and background work. */
export interface Feature {
  name: string;
  methods?: WebhookMethod[];
  /** Mount routes; called in feature order after the shared middleware. */
  routes?(router: Router): void;
  /** Start background work (schedulers, flushers); not called by tests that only need routes. */
  start?(): void;
  /**
   * The server stopped accepting connections: end long-lived responses (SSE streams) so the
   * requests in flight can finish and shutdown is not held up. Called before `stop`.
   */
  closing?(): void;
  /** Stop background work and flush; awaited on graceful shutdown. */
  stop?(): Promise<void>;
}
