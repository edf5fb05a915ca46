import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * `.env` in the working directory, read once at start when present (docs/http.md §8.1). The
 * process environment wins: a variable already set is never replaced by the file. Returns the
 * merged environment; `process.env` itself is left alone so nothing else sees the file's values
 * unless it is handed this result.
 */
export function withEnvFile(env: NodeJS.ProcessEnv = process.env, path = resolve('.env')): NodeJS.ProcessEnv {
  if (!existsSync(path)) return env;
  const fromFile = parseEnv(readFileSync(path, 'utf8'));
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(fromFile)) if (merged[name] === undefined) merged[name] = value;
  return merged;
}
