import { Test } from 'supertest';
import { checkExchange, webhookMethodOf } from '../helpers/openapi.js';

/**
 * Every reply a component test gets through supertest is checked against docs/openapi.json
 * (docs/http.md §8.5): a status, media type or JSON shape the file does not describe fails the
 * test that made the request, with the reason.
 */

type AssertFn = (this: Test, resError: unknown, res: { status: number; headers: Record<string, string>; body: unknown; text?: string } | undefined, fn: unknown) => unknown;
const proto = Test.prototype as unknown as { assert: AssertFn; _data?: unknown; url: string; method: string };
const original = proto.assert;

proto.assert = function (this: Test & { _data?: unknown; url: string; method: string }, resError, res, fn) {
  if (res && typeof res.status === 'number') {
    const url = new URL(this.url, 'http://x');
    const problem = checkExchange({
      method: this.method,
      path: url.pathname,
      status: res.status,
      contentType: res.headers['content-type'],
      body: res.body,
      webhookMethod: webhookMethodOf(this.url, this._data),
    });
    if (problem) {
      return original.call(this, new Error(`docs/openapi.json: ${problem}`), undefined, fn);
    }
  }
  return original.call(this, resError, res, fn);
} as AssertFn;
