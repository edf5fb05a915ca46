import { describe, expect, it } from 'vitest';
import { cpuGrowth, databaseCpu } from '../../bench/pgcpu.js';

/** The PostgreSQL server's CPU per request in the bench's PostgreSQL rows (bench/pgcpu.ts). */
describe('bench database CPU', () => {
  it('when backends are read before and after a run, then their growth is summed and a backend started meanwhile counts from 0', () => {
    const before = new Map([
      [101, 5_000],
      [102, 7_000],
      [103, 1_000],
    ]);
    // 103 ended during the run (its time is lost); 104 is new.
    const after = new Map([
      [101, 9_000],
      [102, 7_500],
      [104, 2_500],
    ]);
    expect(cpuGrowth(before, after)).toBe(4_000 + 500 + 2_500);
    expect(cpuGrowth(new Map(), new Map())).toBe(0);
  });

  it('when the server is not on this machine, then nothing is read (its processes are not ours to see)', async () => {
    await expect(databaseCpu('postgres://bench@db.example.com:5432/bench_x')).resolves.toBeUndefined();
    await expect(databaseCpu('postgres://bench@192.0.2.10/bench_x')).resolves.toBeUndefined();
  });
});
