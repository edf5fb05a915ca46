import { describe, expect, it } from 'vitest';
import { nextState } from '../../src/pause/pause.service.js';
import { parseCsv } from '../../src/pause/csv.js';
import type { AgentRecord } from '../../src/pause/pause.store.js';

const agent = (pause: boolean, reason: string | null = null): AgentRecord => ({
  stage: 'test',
  cli: '+919879964805',
  name: null,
  accountId: null,
  language: null,
  pause,
  reason,
  since: pause ? 1 : null,
});

describe('pause rules', () => {
  it.each([
    [agent(false), true, null, { pause: true, reason: null }],
    [agent(false), true, 'lunch', { pause: true, reason: 'lunch' }],
    [agent(false), false, null, null],
    [agent(false), false, 'lunch', null],
    [agent(true, 'lunch'), true, 'lunch', null],
    [agent(true, 'lunch'), true, null, null],
    [agent(true, 'lunch'), true, 'tea', { pause: true, reason: 'tea' }],
    [agent(true, null), true, 'tea', { pause: true, reason: 'tea' }],
    [agent(true, 'lunch'), false, null, { pause: false, reason: null }],
    [agent(true, 'lunch'), 'toggle', null, { pause: false, reason: null }],
    [agent(false), 'toggle', null, { pause: true, reason: null }],
  ] as const)('when the agent is %j and asks pause=%s reason=%s, then the next state is %j', (cur, want, reason, expected) => {
    expect(nextState(cur, want, reason)).toEqual(expected);
  });
});

describe('CSV', () => {
  it('when fields are quoted, hold commas, doubled quotes and line breaks, then records keep their starting line', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\n\n"multi\nline",z\nlast,')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['multi\nline', 'z'] },
      { line: 6, fields: ['last', ''] },
    ]);
  });

  it('when the text is empty or only blank lines, then there are no records', () => {
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n\r\n')).toEqual([]);
  });
});
