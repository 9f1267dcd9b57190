import * as z from './zod';

/** Weekday names as the windows spell them. */
export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clock = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)'));
const date = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'));
const timeZone = z.string().check(z.refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Berlin'));

/** A recurring window in which production changes are allowed. */
export const DeploymentWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).check(z.minLength(1)),
    /** Local opening time, inclusive. */
    start: clock,
    /** Local closing time, exclusive; `24:00` closes at midnight. */
    end: clock,
    timeZone,
  })
  .check(z.refine((w) => w.start < w.end, { message: 'start must be before end', path: ['end'] }));

/** A date range, inclusive at both ends, in which nothing is released. */
export const FreezeSchema = z
  .strictObject({
    from: date,
    to: date,
    /** @default 'UTC' */
    timeZone: z._default(timeZone, 'UTC'),
    reason: z._default(z.string().check(z.maxLength(200)), 'release freeze'),
  })
  .check(z.refine((f) => f.from <= f.to, { message: 'from must not be after to', path: ['to'] }));

/** Windows and freezes; with no windows, every time outside a freeze is open. */
export const WindowPolicySchema = z.strictObject({
  windows: z._default(z.array(DeploymentWindowSchema).check(z.maxLength(50)), []),
  freezes: z._default(z.array(FreezeSchema).check(z.maxLength(200)), []),
});
export type WindowPolicy = z.infer<typeof WindowPolicySchema>;

/** The answer for one instant. */
export type WindowVerdict =
  | { readonly open: true; readonly reason: string }
  | { readonly open: false; readonly reason: string; readonly nextOpen?: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let existing = formatters.get(zone);
  if (!existing) {
    existing = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, existing);
  }
  return existing;
}

/** Wall-clock parts of an instant in a time zone. */
export function localParts(instant: number, zone: string) {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return {
    weekday: parts.weekday as Weekday,
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/**
 * The first instant at which a zone's clocks read the given wall-clock time or later: the time itself when it exists
 * (the earlier one when DST repeats it), or the end of the gap when DST skips it — when a window starting then opens.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const wallOf = (instant: number) => {
    const p = localParts(instant, zone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  };
  const offsetAt = (instant: number) => wallOf(instant) - Math.floor(instant / 1000) * 1000;
  // A day before and a day after, the zone keeps the offsets in force on either side of any DST change that day.
  const before = wall - offsetAt(wall - 86_400_000);
  const after = wall - offsetAt(wall + 86_400_000);
  const matches = [before, after].filter((instant) => wallOf(instant) === wall);
  if (matches.length > 0) return Math.min(...matches);
  let low = Math.min(before, after);
  let high = Math.max(before, after);
  // Skipped by DST: search, to the second, for the first instant whose wall clock reads `wall` or later.
  while (high - low > 1000) {
    const mid = low + Math.floor((high - low) / 2000) * 1000;
    if (wallOf(mid) >= wall) high = mid;
    else low = mid;
  }
  return high;
}

function frozenBy(policy: WindowPolicy, instant: number) {
  return policy.freezes.find((f) => {
    const { date: today } = localParts(instant, f.timeZone);
    return today >= f.from && today <= f.to;
  });
}

function inWindow(policy: WindowPolicy, instant: number) {
  if (policy.windows.length === 0) return { open: true, label: 'no windows configured' };
  for (const w of policy.windows) {
    const { weekday, time } = localParts(instant, w.timeZone);
    if (w.days.includes(weekday) && time >= w.start && time < w.end) return { open: true, label: `${w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}` };
  }
  return { open: false, label: '' };
}

/** Whether production changes are allowed at `instant`, ignoring when the next opening is. */
export function isOpenAt(policy: WindowPolicy, instant: number): boolean {
  return !frozenBy(policy, instant) && inWindow(policy, instant).open;
}

/** How far ahead the next opening is looked for. */
const HORIZON_DAYS = 400;

/**
 * The earliest instant ≥ `from` at which changes are allowed. Openings only happen when a window starts or a freeze
 * ends, so those instants (per zone, DST included) are the only candidates checked.
 */
export function nextOpening(policy: WindowPolicy, from: number): number | undefined {
  if (isOpenAt(policy, from)) return from;
  const zones = [...new Set([...policy.windows.map((w) => w.timeZone), ...policy.freezes.map((f) => f.timeZone)])];
  const starts = new Map(zones.map((zone) => [zone, localParts(from, zone)]));
  const candidatesOfDay = (offset: number) =>
    zones.flatMap((zone) => {
      const start = starts.get(zone)!;
      const day = new Date(Date.UTC(start.year, start.month - 1, start.day + offset));
      const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
      const opens = policy.windows.filter((w) => w.timeZone === zone).map((w) => w.start.split(':').map(Number) as [number, number]);
      // Midnight covers the end of a freeze (and windows opening at 00:00).
      if (policy.freezes.some((f) => f.timeZone === zone)) opens.push([0, 0]);
      return opens.map(([h, min]) => zonedTime(y, m, d, h, min, zone));
    });
  for (let offset = 0; offset <= HORIZON_DAYS; offset += 1) {
    const found = candidatesOfDay(offset).filter((c) => c >= from && isOpenAt(policy, c));
    if (found.length > 0) {
      // Zones up to a day apart: the next day's candidates may still come earlier.
      const following = candidatesOfDay(offset + 1).filter((c) => c >= from && isOpenAt(policy, c));
      return Math.min(...found, ...following);
    }
  }
  return undefined;
}

/** The verdict for `instant`, with the reason and, when closed, the next opening. */
export function assessWindow(policy: WindowPolicy, instant: number): WindowVerdict {
  const freeze = frozenBy(policy, instant);
  const window = inWindow(policy, instant);
  if (!freeze && window.open) return { open: true, reason: `inside deployment window (${window.label})` };
  const nextOpen = nextOpening(policy, instant);
  const why = freeze ? `release freeze ${freeze.from} to ${freeze.to} (${freeze.reason})` : 'outside every deployment window';
  const when = nextOpen === undefined ? `no window opens in the next ${HORIZON_DAYS} days` : `next window opens at ${new Date(nextOpen).toISOString()}`;
  return { open: false, reason: `${why}; ${when}`, ...(nextOpen === undefined ? {} : { nextOpen }) };
}
