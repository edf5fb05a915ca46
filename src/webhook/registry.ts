import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { Params } from '../http/params.js';
import type { Stage } from '../http/routing.js';

/** One method of the central webhook (docs/http.md §2). Adding a method is adding one entry. */
export interface WebhookMethod {
  name: string;
  /**
   * The method's own result fields with their failure values, e.g. `{cli_pause_update: false}`,
   * merged into its error replies; a function when they depend on the error.
   */
  failure: Record<string, unknown> | ((error: unknown) => Record<string, unknown>);
  handle(ctx: MethodContext): MethodResult | Promise<MethodResult>;
}

/** What a method is given: no Express objects, so a method is a plain function of its input. */
export interface MethodContext {
  stage: Stage;
  params: Params;
  /** The request's headers, names in lower case. */
  headers: IncomingHttpHeaders;
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
  /**
   * For requests no feature's route answered, run in feature order after all of them, before the
   * app's 404 (the short links' `/{code}`, which catches single-segment paths).
   */
  fallback?: RequestHandler;
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
