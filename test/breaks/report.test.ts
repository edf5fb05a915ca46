import { describe, expect, it } from 'vitest';
import { summariseBreaks, type BreakInterval, type ReportAgent } from '../../src/breaks/report.js';
import { csvField, reportCsv } from '../../src/breaks/report.csv.js';

const T = (hhmm: string) => Date.parse(`2026-01-15T${hhmm}:00.000Z`);
const agent = (cli: string, over: Partial<ReportAgent> = {}): ReportAgent => ({ cli, name: null, pause: false, reason: null, since: null, ...over });
const brk = (cli: string, start: string, end: string | null, reason: string | null = null): BreakInterval => ({ cli, start: T(start), end: end === null ? null : T(end), reason });
const noLimits = () => 0;

describe('break report arithmetic', () => {
  it('when breaks lie inside the window, then they are counted, totalled and the longest found, by reason', () => {
    const [r] = summariseBreaks(
      [agent('+911')],
      [brk('+911', '09:00', '09:15', 'tea'), brk('+911', '12:00', '12:45', 'lunch'), brk('+911', '15:00', '15:10', 'tea')],
      { from: T('08:00'), to: T('18:00'), now: T('18:00') },
      noLimits,
    );
    expect(r).toEqual({
      cli: '+911',
      name: null,
      breaks: 3,
      totalBreakSeconds: 70 * 60,
      longestBreakSeconds: 45 * 60,
      byReason: { lunch: 45 * 60, tea: 25 * 60 },
      onBreakNow: false,
      since: null,
      overLimit: false,
      breaksOverLimit: 0,
    });
  });

  it('when breaks straddle the window edges, then only the part inside counts; breaks outside are not counted', () => {
    const [r] = summariseBreaks(
      [agent('+911')],
      [brk('+911', '07:30', '08:20', 'a'), brk('+911', '17:50', '18:30', 'b'), brk('+911', '06:00', '07:00', 'c'), brk('+911', '18:00', '18:10', 'd')],
      { from: T('08:00'), to: T('18:00'), now: T('20:00') },
      noLimits,
    );
    expect(r).toMatchObject({ breaks: 2, totalBreakSeconds: 30 * 60, longestBreakSeconds: 20 * 60, byReason: { a: 20 * 60, b: 10 * 60 } });
  });

  it('when a break is still open, then it counts up to now, and onBreakNow and since describe it', () => {
    const [r] = summariseBreaks(
      [agent('+911', { pause: true, reason: 'lunch', since: T('12:00') })],
      [brk('+911', '12:00', null, 'lunch')],
      { from: T('00:00'), to: T('23:59'), now: T('12:30') },
      noLimits,
    );
    expect(r).toMatchObject({ breaks: 1, totalBreakSeconds: 1800, longestBreakSeconds: 1800, onBreakNow: true, since: '2026-01-15T12:00:00.000Z' });
  });

  it('when an open break began before a window that ended earlier, then it is clipped to the window end', () => {
    const [r] = summariseBreaks(
      [agent('+911', { pause: true, reason: null, since: T('10:00') })],
      [brk('+911', '10:00', null)],
      { from: T('09:00'), to: T('11:00'), now: T('15:00') },
      noLimits,
    );
    expect(r).toMatchObject({ breaks: 1, totalBreakSeconds: 3600, byReason: { none: 3600 }, onBreakNow: true });
  });

  it('when the reason changes during a break, then the time splits into two breaks by reason', () => {
    // paused for tea at 10:00, switched to a meeting at 10:10, back at 11:00
    const [r] = summariseBreaks(
      [agent('+911')],
      [brk('+911', '10:00', '10:10', 'tea'), brk('+911', '10:10', '11:00', 'meeting')],
      { from: T('00:00'), to: T('23:00'), now: T('23:00') },
      noLimits,
    );
    expect(r).toMatchObject({ breaks: 2, totalBreakSeconds: 3600, longestBreakSeconds: 3000, byReason: { tea: 600, meeting: 3000 } });
  });

  it('when an agent was never paused, then it is listed with zeros', () => {
    const rows = summariseBreaks([agent('+911', { name: 'Asha' }), agent('+912', { name: 'Ravi' })], [brk('+911', '10:00', '10:05')], {
      from: T('00:00'),
      to: T('23:00'),
      now: T('23:00'),
    }, noLimits);
    expect(rows[1]).toEqual({
      cli: '+912',
      name: 'Ravi',
      breaks: 0,
      totalBreakSeconds: 0,
      longestBreakSeconds: 0,
      byReason: {},
      onBreakNow: false,
      since: null,
      overLimit: false,
      breaksOverLimit: 0,
    });
  });

  it('when breaks run past their limits, then the open one is flagged and past ones are counted by their whole length', () => {
    const limits = (reason: string | null) => (reason === 'tea' ? 15 : 30);
    const [r] = summariseBreaks(
      [agent('+911', { pause: true, reason: 'tea', since: T('16:00') })],
      // 40 min lunch (limit 30) that began before the window: only 10 min inside, still over its limit
      [brk('+911', '07:30', '08:10', 'lunch'), brk('+911', '09:00', '09:14', 'tea'), brk('+911', '16:00', null, 'tea')],
      { from: T('08:00'), to: T('18:00'), now: T('16:16') },
      limits,
    );
    expect(r).toMatchObject({ breaks: 3, overLimit: true, breaksOverLimit: 2 });
    const [early] = summariseBreaks([agent('+911', { pause: true, reason: 'tea', since: T('16:00') })], [brk('+911', '16:00', null, 'tea')], {
      from: T('08:00'),
      to: T('18:00'),
      now: T('16:15'),
    }, limits);
    expect(early).toMatchObject({ overLimit: false, breaksOverLimit: 0 });
  });
});

describe('break report CSV', () => {
  it('when a field has commas, quotes or line breaks, then it is quoted with quotes doubled', () => {
    expect(csvField('Asha, Team "A"')).toBe('"Asha, Team ""A"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
  });

  it('when text would run as a spreadsheet formula, then it is neutralised; E.164 numbers are left alone', () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('+919879964805')).toBe('+919879964805');
    expect(csvField(-5)).toBe('-5');
  });

  it('when the report is exported, then there is a header, one CRLF line per agent and a column per reason', () => {
    const csv = reportCsv([
      { cli: '+919879964805', name: 'Asha, "A"', breaks: 2, totalBreakSeconds: 900, longestBreakSeconds: 600, byReason: { tea: 300, lunch: 600 }, onBreakNow: true, since: '2026-01-15T12:00:00.000Z', overLimit: false, breaksOverLimit: 0 },
      { cli: '+919811112222', name: null, breaks: 0, totalBreakSeconds: 0, longestBreakSeconds: 0, byReason: {}, onBreakNow: false, since: null, overLimit: false, breaksOverLimit: 0 },
    ]);
    expect(csv.split('\r\n')).toEqual([
      'cli,name,breaks,totalBreakSeconds,longestBreakSeconds,onBreakNow,since,overLimit,breaksOverLimit,byReason.lunch,byReason.tea',
      '+919879964805,"Asha, ""A""",2,900,600,true,2026-01-15T12:00:00.000Z,false,0,600,300',
      '+919811112222,,0,0,0,false,,false,0,0,0',
      '',
    ]);
  });
});
