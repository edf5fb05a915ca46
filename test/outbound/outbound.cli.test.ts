import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const outbound = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/outbound/outbound.cli.ts', ...args], { cwd: ROOT, timeout: 60_000 });

describe('npm run outbound (a campaign against a platform double)', () => {
  it('when a Twilio campaign is played with busy and failed first calls, then each contact journey is printed: redialled when busy, failed is final', async () => {
    const { stdout } = await outbound('--platform', 'twilio', '--contacts', '3', '--outcomes', 'completed,busy,failed');
    const lines = stdout.split('\n').filter((l) => l.startsWith('  +91'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ {2}\+919800000000 {2}dialled \(CA[0-9a-f]{4}…\) → completed 35 s {2}\(attempts 1, outcome completed\)$/);
    expect(lines[1]).toMatch(/busy → redial in 10 min → dialled \(CA[0-9a-f]{4}…\) → completed 35 s {2}\(attempts 2, outcome completed\)$/);
    expect(lines[2]).toMatch(/dialled \(CA[0-9a-f]{4}…\) → failed {2}\(attempts 1, outcome failed\)$/);
  }, 90_000);

  it('when the platform is unknown, then it prints usage and exits 2', async () => {
    await expect(outbound('--platform', 'nope')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage: npm run outbound') });
  });
});
