import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The service's log output gathers lines into larger writes (src/observability/logger.ts), yet a
 * quiet service's line still appears promptly and nothing is lost when the process exits.
 */
function run(script: string): Promise<{ out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve({ out }));
  });
}

describe('log destination', () => {
  it('when a quiet process logs one line and keeps running, then the line is written without waiting for more', async () => {
    const { out } = await run(`
      import { createLogger, logDestination } from './src/observability/logger.ts';
      const logger = createLogger('info', logDestination());
      logger.info({ n: 1 }, 'alone');
      // Then end without exit handlers (as a crash would), long after the periodic flush.
      setTimeout(() => process.reallyExit(0), 1500);
    `);
    expect(out).toContain('"msg":"alone"');
  });

  it('when many lines are logged and the process exits at once, then every line is written', async () => {
    const { out } = await run(`
      import { createLogger, logDestination } from './src/observability/logger.ts';
      const logger = createLogger('info', logDestination());
      for (let i = 0; i < 1000; i++) logger.info({ i }, 'line');
      process.exit(0);
    `);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!).i).toBe(999);
  });
});
