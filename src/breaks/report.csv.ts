import type { AgentBreakSummary } from './report.js';

/**
 * The break report as CSV (RFC 4180: comma separated, CRLF line ends, a field with a comma, quote
 * or line break is quoted and its quotes doubled). Text that a spreadsheet would run as a formula
 * (starting, after any spaces, with = + - @ tab CR or LF, and not a plain number such as an E.164
 * cli) is prefixed with a single quote, the OWASP advice against CSV injection (docs/http.md §7.4). One `byReason.<reason>` column per reason
 * that occurs in the report, in name order.
 */

const FIXED = ['cli', 'name', 'breaks', 'totalBreakSeconds', 'longestBreakSeconds', 'onBreakNow', 'since', 'overLimit', 'breaksOverLimit'] as const;

// Spreadsheets skip leading spaces (also no-break and other space separators) before a formula.
const FORMULA_START = /^\p{Zs}*[=+\-@\t\r\n]/u;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (FORMULA_START.test(s) && !PLAIN_NUMBER.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function reportCsv(rows: readonly AgentBreakSummary[]): string {
  const reasons = [...new Set(rows.flatMap((r) => Object.keys(r.byReason)))].sort((a, b) => a.localeCompare(b));
  const header = [...FIXED, ...reasons.map((r) => `byReason.${r}`)];
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) {
    lines.push([...FIXED.map((k) => r[k]), ...reasons.map((k) => (Object.hasOwn(r.byReason, k) ? r.byReason[k]! : 0))].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
