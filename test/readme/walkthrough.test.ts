import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';
import { ROOT, startServiceProcess, type ServiceProcess } from '../helpers/service.js';

/**
 * The README's walkthrough, run as a reader would paste it: every ```sh walkthrough block, in
 * order, in one bash shell (so captured variables carry over), against a live service started
 * here on a free port (the README's 3070 is replaced by it). Each `#>` line of a block is the
 * output that block must print, exactly. A command that fails or an output that drifts fails
 * the test, naming the block.
 */

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_PORT = '3070';

interface Block {
  code: string;
  expected: string[];
}

function walkthroughBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((m) => ({
    code: m[1]!,
    expected: m[1]!
      .split('\n')
      .filter((l) => l.startsWith('#>'))
      .map((l) => l.replace(/^#> ?/, '')),
  }));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headings(markdown: string): { level: number; text: string; anchor: string }[] {
  const seen = new Map<string, number>();
  const out: { level: number; text: string; anchor: string }[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(##|###) (.+)$/.exec(line);
    if (!m) continue;
    const base = m[2]!.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: m[1]!.length, text: m[2]!, anchor: n ? `${base}-${n}` : base });
  }
  return out;
}

describe('README contents (8)', () => {
  it('when the README has sections, then the table of contents lists every one, in order, and each link finds its heading', () => {
    const all = headings(README);
    const contents = README.slice(README.indexOf('## Contents'), README.indexOf('\n## ', README.indexOf('## Contents') + 1));
    const links = [...contents.matchAll(/^( *)- \[(.+)\]\(#([^)]+)\)$/gm)].map((m) => ({ level: m[1]!.length === 0 ? 2 : 3, text: m[2]!, anchor: m[3]! }));
    const expected = all.filter((h) => h.text !== 'Contents');
    expect(links, 'README "## Contents" must list every ## and ### heading (update it when you add a section)').toEqual(expected);
  });
});

describe('README walkthrough (8)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-readme-'));
  let service: ServiceProcess | undefined;
  afterAll(() => {
    service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when its blocks are pasted top to bottom against a service on another port, then each prints what the README shows', async () => {
    const blocks = walkthroughBlocks(README);
    expect(blocks.length, 'README has ```sh walkthrough blocks').toBeGreaterThanOrEqual(5);
    expect(() => execFileSync('jq', ['--version']), 'the walkthrough uses jq: apt-get install jq (.ci/run does)').not.toThrow();

    const port = String(await freePort());
    service = startServiceProcess({ PORT: port, DATABASE_PATH: join(dir, 'walkthrough.db') }, { inheritEnv: false });
    await service.ready;

    const script = ['set -eo pipefail', ...blocks.flatMap((b, i) => [`echo "@@block ${i}"`, b.code.replaceAll(README_PORT, port)])].join('\n');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

    const printed = new Map<number, string[]>();
    let current = -1;
    for (const line of out.stdout.replace(/\n$/, '').split('\n')) {
      const m = /^@@block (\d+)$/.exec(line);
      if (m) printed.set((current = Number(m[1])), []);
      else printed.get(current)?.push(line.replaceAll(port, README_PORT));
    }
    for (const [i, block] of blocks.entries()) {
      const first = block.code.split('\n').find((l) => l.trim() && !l.startsWith('#'));
      expect(printed.get(i), `block ${i} (${first}) printed; stderr: ${out.stderr.slice(-800)}`).toEqual(block.expected);
    }
    expect(out.code, `the walkthrough exited with ${out.code}: ${out.stderr.slice(-800)}`).toBe(0);
  }, 120_000);
});
