import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WEEKDAYS, WindowPolicySchema, assessWindow, isOpenAt, localParts, nextOpening, zonedTime } from '../../../deploy-functions/core/window';

const RUNS = Number(process.env.LRP_PROPERTY_RUNS ?? 300) >= 2000 ? 1000 : 300;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Chatham'] as const;
const HOUR = 3_600_000;
const berlin = WindowPolicySchema.parse({
  windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], start: '09:00', end: '16:00', timeZone: 'Europe/Berlin' }],
  freezes: [{ from: '2026-12-21', to: '2027-01-03', timeZone: 'Europe/Berlin', reason: 'holidays' }],
});

describe('deployment window: examples', () => {
  it('is open inside a window and says which', () => {
    expect(assessWindow(berlin, Date.parse('2026-11-25T10:00:00Z'))).toEqual({ open: true, reason: 'inside deployment window (Mon,Tue,Wed,Thu 09:00-16:00 Europe/Berlin)' });
  });

  it('is closed on a Friday and names the next opening', () => {
    expect(assessWindow(berlin, Date.parse('2026-11-27T10:00:00Z'))).toMatchObject({ open: false, reason: 'outside every deployment window; next window opens at 2026-11-30T08:00:00.000Z' });
  });

  it('is closed during a freeze and opens at the first window after it', () => {
    expect(assessWindow(berlin, Date.parse('2026-12-22T10:00:00Z'))).toMatchObject({ open: false, reason: expect.stringMatching(/^release freeze 2026-12-21 to 2027-01-03 \(holidays\); next window opens at 2027-01-04T08:00:00.000Z$/) });
  });

  it('follows local time across DST changes', () => {
    // Berlin is UTC+1 in winter and UTC+2 in summer: 09:00 local is 08:00Z, then 07:00Z.
    expect(isOpenAt(berlin, Date.parse('2026-03-26T08:00:00Z'))).toBe(true);
    expect(isOpenAt(berlin, Date.parse('2026-03-30T07:00:00Z'))).toBe(true);
    expect(isOpenAt(berlin, Date.parse('2026-03-30T06:59:00Z'))).toBe(false);
  });

  it('maps a wall-clock time skipped by DST to the end of the gap, and a repeated one to its first occurrence', () => {
    // Berlin skips 02:00-03:00 on 2026-03-29: a window opening at 02:30 opens at 03:00 local (01:00Z).
    expect(new Date(zonedTime(2026, 3, 29, 2, 30, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(new Date(zonedTime(2026, 10, 25, 2, 30, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(localParts(zonedTime(2026, 10, 25, 2, 30, 'Europe/Berlin'), 'Europe/Berlin').time).toBe('02:30');
  });

  it('rejects a bad policy naming the field', () => {
    const result = WindowPolicySchema.safeParse({ windows: [{ days: ['Mon'], start: '16:00', end: '09:00', timeZone: 'Mars/Base' }] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['windows.0.timeZone', 'windows.0.end']));
  });
});

const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const windowArb = fc
  .record({ days: fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }), a: time, b: time, timeZone: fc.constantFrom(...ZONES) })
  .filter((w) => w.a !== w.b)
  .map(({ days, a, b, timeZone }) => ({ days, start: a < b ? a : b, end: a < b ? b : a, timeZone }));
const dateArb = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') });
const freezeArb = fc.record({ from: dateArb, days: fc.integer({ min: 0, max: 20 }), timeZone: fc.constantFrom(...ZONES) }).map(({ from, days, timeZone }) => ({
  from: new Date(from).toISOString().slice(0, 10),
  to: new Date(from + days * 24 * HOUR).toISOString().slice(0, 10),
  timeZone,
}));
const policyArb = fc.record({ windows: fc.array(windowArb, { maxLength: 3 }), freezes: fc.array(freezeArb, { maxLength: 3 }) }).map((p) => WindowPolicySchema.parse(p));
// Instants near DST transitions are over-represented: they are where local-time logic breaks.
const instantArb = fc.oneof(dateArb, fc.constantFrom(Date.parse('2026-03-29T00:30:00Z'), Date.parse('2026-10-25T00:30:00Z'), Date.parse('2026-03-08T06:30:00Z'), Date.parse('2026-04-05T15:30:00Z')).chain((t) => fc.integer({ min: -6 * HOUR, max: 6 * HOUR }).map((d) => t + d)));

describe('deployment window: properties over time zones, DST and freezes', () => {
  it('the next opening is open, later than now, and nothing before it is', () => {
    fc.assert(
      fc.property(policyArb, instantArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 20, maxLength: 20 }), (policy, now, samples) => {
        const verdict = assessWindow(policy, now);
        expect(verdict.open).toBe(isOpenAt(policy, now));
        if (verdict.open) return;
        const next = nextOpening(policy, now);
        expect(verdict.nextOpen).toBe(next);
        if (next === undefined) return;
        expect(next).toBeGreaterThan(now);
        expect(isOpenAt(policy, next)).toBe(true);
        expect(isOpenAt(policy, next - 60_000)).toBe(false);
        for (const fraction of samples) expect(isOpenAt(policy, now + Math.floor(fraction * (next - now - 1)))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('a freeze closes its whole first and last local day, and not a minute more', () => {
    fc.assert(
      fc.property(freezeArb, (freeze) => {
        const policy = WindowPolicySchema.parse({ freezes: [freeze] });
        const [fy, fm, fd] = freeze.from.split('-').map(Number) as [number, number, number];
        const [ty, tm, td] = freeze.to.split('-').map(Number) as [number, number, number];
        const firstMinute = zonedTime(fy, fm, fd, 0, 0, freeze.timeZone);
        const dayAfter = new Date(Date.UTC(ty, tm - 1, td + 1));
        const reopening = zonedTime(dayAfter.getUTCFullYear(), dayAfter.getUTCMonth() + 1, dayAfter.getUTCDate(), 0, 0, freeze.timeZone);
        expect(isOpenAt(policy, firstMinute - 60_000)).toBe(true);
        expect(isOpenAt(policy, firstMinute)).toBe(false);
        expect(isOpenAt(policy, reopening - 60_000)).toBe(false);
        expect(isOpenAt(policy, reopening)).toBe(true);
        expect(nextOpening(policy, firstMinute)).toBe(reopening);
      }),
      { numRuns: RUNS },
    );
  });
});
