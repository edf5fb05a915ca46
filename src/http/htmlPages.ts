import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * The few HTML pages people see in a browser (docs/http.md §8.2): the supervisor login form and
 * the error pages of /admin and short links. Every value is escaped; each page carries a strict
 * Content-Security-Policy with a fresh nonce for its one style sheet.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** True when the request's Accept header prefers text/html to JSON and XML (a browser). */
export function prefersHtml(req: Request): boolean {
  const accept = req.headers.accept;
  if (!accept || !/text\/html/i.test(accept)) return false;
  return req.accepts(['application/json', 'application/xml', 'text/xml', 'text/html']) === 'text/html';
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1c2430; --card: #fff; --muted: #5b6675; --accent: #2457c5; --bad: #b42318; }
@media (prefers-color-scheme: dark) { :root { --bg: #12161c; --fg: #e7ebf0; --card: #1c222b; --muted: #9aa5b4; --accent: #7aa2ff; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; padding: 1rem; }
main { background: var(--card); border-radius: 12px; padding: 2rem; width: min(26rem, 100%); box-shadow: 0 2px 12px #0002; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
p { color: var(--muted); margin: .5rem 0 1rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input[type=password] { width: 100%; padding: .6rem .7rem; font-size: 1rem; border-radius: 8px; border: 1px solid var(--muted); background: var(--bg); color: var(--fg); }
button { margin-top: 1rem; width: 100%; padding: .65rem; font-size: 1rem; border: 0; border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
.error { color: var(--bad); font-weight: 600; }
.code { font-family: ui-monospace, monospace; font-size: .9rem; color: var(--muted); }
a { color: var(--accent); }
`;

function page(res: Response, status: number, title: string, body: string): void {
  const nonce = randomBytes(16).toString('base64');
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
      // Not no-referrer: with it Chromium sends `Origin: null` on the form's POST, which the Origin check refuses.
      'Referrer-Policy': 'same-origin',
    })
    .send(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head><body><main>${body}</main></body></html>\n`,
    );
}

/** Where a login may send the browser afterwards: a path under /admin/ on this service only. */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== 'string' || next.length > 512) return undefined;
  return /^\/admin\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(next) && !next.startsWith('/admin/login') && !next.includes('//') ? next : undefined;
}

export function sendLoginPage(res: Response, opts: { status: number; next?: string; error?: string; enabled: boolean }): void {
  const intro = opts.enabled
    ? '<p>Sign in with the admin token, or with the board token for a read-only view.</p>'
    : '<p class="error">Logins are off: this service has no ADMIN_TOKEN, so the admin pages answer only browsers on the same machine. Set ADMIN_TOKEN (and BOARD_TOKEN for read-only supervisors).</p>';
  const error = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : '';
  const form = opts.enabled
    ? `<form method="post" action="/admin/login"><label for="token">Token</label>` +
      `<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>` +
      (opts.next ? `<input type="hidden" name="next" value="${escapeHtml(opts.next)}">` : '') +
      `<button type="submit">Sign in</button></form>`
    : '';
  page(res, opts.status, 'Sign in · central-webhooks', `<h1>Supervisor sign-in</h1>${intro}${error}${form}`);
}

const TITLES: Record<number, string> = {
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  410: 'This link has expired',
  413: 'Too large',
  415: 'Unsupported content',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Restarting',
};

export function sendErrorPage(res: Response, status: number, code: string, message: string): void {
  const title = TITLES[status] ?? 'Request refused';
  page(res, status, title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="code">${status} ${escapeHtml(code)}</p>`);
}
