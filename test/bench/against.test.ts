import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockedPackages, missingPackages } from '../../bench/against.js';

/**
 * `npm run bench -- --against <rev>` shares this checkout's node_modules with the older revision
 * only when every package that revision's lockfile installs for running is here at its version.
 */

const lock = JSON.stringify({
  lockfileVersion: 3,
  packages: {
    '': { name: 'central-webhooks', dependencies: { express: '^5.0.0' } },
    'node_modules/express': { version: '5.1.0' },
    'node_modules/xmlbuilder2': { version: '4.0.3' },
    'node_modules/xmlbuilder2/node_modules/js-yaml': { version: '4.1.0' },
    'node_modules/vitest': { version: '3.2.4', dev: true },
    'node_modules/fsevents': { version: '2.3.3', optional: true },
    'node_modules/local-thing': { resolved: 'packages/local-thing', link: true },
  },
});

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function installed(packages: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'cw-lock-'));
  for (const [path, version] of Object.entries(packages)) {
    mkdirSync(join(dir, path), { recursive: true });
    writeFileSync(join(dir, path, 'package.json'), JSON.stringify({ name: path.split('/').pop(), version }));
  }
  return dir;
}

describe('bench --against: sharing node_modules with an older revision', () => {
  it('when a lockfile is read, then only what a production install puts in place counts (no dev, links or the root)', () => {
    expect([...lockedPackages(lock).entries()]).toEqual([
      ['node_modules/express', { version: '5.1.0', optional: false }],
      ['node_modules/xmlbuilder2', { version: '4.0.3', optional: false }],
      ['node_modules/xmlbuilder2/node_modules/js-yaml', { version: '4.1.0', optional: false }],
      ['node_modules/fsevents', { version: '2.3.3', optional: true }],
    ]);
    expect(() => lockedPackages(JSON.stringify({ lockfileVersion: 1, dependencies: {} }))).toThrow(/lockfile v1/);
  });

  it('when every package is installed at its version, then nothing is missing; an optional one may be absent', () => {
    const root = installed({ 'node_modules/express': '5.1.0', 'node_modules/xmlbuilder2': '4.0.3', 'node_modules/xmlbuilder2/node_modules/js-yaml': '4.1.0' });
    expect(missingPackages(lockedPackages(lock), root)).toEqual([]);
  });

  it('when a package is absent or at another version, then each is named with the version wanted and the one here', () => {
    const root = installed({ 'node_modules/express': '5.2.1', 'node_modules/xmlbuilder2': '4.0.3' });
    expect(missingPackages(lockedPackages(lock), root)).toEqual(['express@5.1.0 (5.2.1 here)', 'xmlbuilder2/node_modules/js-yaml@4.1.0 (absent)']);
  });
});
