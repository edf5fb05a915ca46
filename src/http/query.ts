import type { Request } from 'express';

/**
 * The query-string pairs of the request URL, in order and with repeats kept (Express's parsed
 * `req.query` merges repeats and nests brackets, which docs/http.md §1.5 forbids).
 */
export function queryPairs(req: Request): [string, string][] {
  const q = req.originalUrl.indexOf('?');
  return q === -1 ? [] : [...new URLSearchParams(req.originalUrl.slice(q + 1))];
}
