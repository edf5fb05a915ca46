import type { Scenario } from '../scenario.js';

/**
 * Issue 5 and 15: the short-link redirect (the hot path: LRU cache, visits counted in memory;
 * against the echo), short-URL creation (a new link each request: token check, URL rules, one
 * INSERT) and a user preference update (one upsert and the read-back in one transaction), each
 * of the last two against its same-work twin (bench/twins/).
 */

const TOKEN = 'abcd1234';
/** The link made by each service's setup, by its base URL (`--against` sets up two services). */
const redirectPaths = new Map<string, string>();
let lastRedirectPath = '/';

type Req = { body?: string | Buffer } & Record<string, unknown>;

/**
 * A fresh body per request, so creation measures inserts rather than find-if-exists. Each process
 * measured gets its own counter (the scenario's `request` runs once per process).
 */
function counterBody(make: (n: number) => unknown) {
  let n = 0;
  return (req: Req): Req => ({ ...req, body: JSON.stringify(make(n++)) });
}

export const shortUrlScenarios: Scenario[] = [
  {
    name: 'redirect',
    async setup(ctx) {
      const r = (await ctx.call('POST', '/UrlShortner/phonon/shortUrl', { custToken: TOKEN, longUrl: 'https://example.com/landing?utm_source=bench' })) as {
        shortUrl: string;
      };
      lastRedirectPath = `/${r.shortUrl.split('/').pop()}`;
      redirectPaths.set(ctx.baseUrl, lastRedirectPath);
    },
    // The echo is set up by no one: it gets a path of the same length.
    request: (ctx) => ({ method: 'GET', path: redirectPaths.get(ctx.baseUrl) ?? lastRedirectPath }),
    expectStatus: [302],
    target: { cpuRatio: 0.9, fixedP99Ms: 25 },
  },
  {
    name: 'shorturl-create',
    twin: { file: 'bench/twins/shorturl-create.ts' },
    writes: 'short_urls',
    request: () => ({
      method: 'POST',
      path: '/UrlShortner/phonon/shortUrl',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: counterBody((n) => ({ custToken: TOKEN, longUrl: `https://example.com/item/${n}?ref=bench` })) as never }],
    }),
    target: { cpuRatio: 0.7, fixedP99Ms: 25 },
  },
  {
    name: 'userprefs',
    twin: { file: 'bench/twins/userprefs.ts' },
    writes: 'user_preferences',
    request: () => ({
      method: 'POST',
      path: '/centraloutboundwebhook-v1/test/',
      headers: { 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: counterBody((n) => ({
            method: 'updateUserPreferences',
            // 50 callers with 5 keys each: every request is a real upsert, and the reply (every key
            // the caller has) stays the size a flow sees.
            contactNumber: `98799648${String(n % 50).padStart(2, '0')}`,
            accountID: 'bench',
            key: { [`k${Math.floor(n / 50) % 5}`]: `value ${n}` },
          })) as never,
        },
      ],
    }),
    target: { cpuRatio: 0.75, fixedP99Ms: 25 },
  },
];
