/**
 * A daily cut-off at a wall-clock time in a time zone (D5: broker sessions end daily, by default
 * at 23:59 in Asia/Kolkata). Pure date arithmetic over Intl, so any IANA zone, DST included.
 */

export interface DailyCutoff {
  /** "HH:MM", 24-hour. */
  time: string;
  /** An IANA time zone, e.g. "Asia/Kolkata". */
  timeZone: string;
}

const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/** Throws a plain Error naming the problem (the configuration loader adds the key). */
export function validateCutoff(cutoff: DailyCutoff): void {
  validateCutoffTime(cutoff.time);
  validateCutoffZone(cutoff.timeZone);
}

/** The time half of validateCutoff, so the loader can name the key that is wrong. */
export function validateCutoffTime(time: string): void {
  if (!TIME.test(time)) throw new Error(`"${time}" is not a time of day HH:MM`);
}

/** The zone half of validateCutoff. */
export function validateCutoffZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new Error(`"${timeZone}" is not an IANA time zone`);
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(at: Date, timeZone: string): WallClock {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** The zone's offset from UTC at `at`, in milliseconds. */
function offsetAt(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at.getTime() / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in the zone (in a DST gap or fold, one of the instants next to it). */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  let guess = asUtc - offsetAt(new Date(asUtc), timeZone);
  guess = asUtc - offsetAt(new Date(guess), timeZone);
  return new Date(guess);
}

/** The first cut-off strictly after `now`. */
export function nextCutoff(now: Date, cutoff: DailyCutoff): Date {
  const [hour, minute] = cutoff.time.split(":").map(Number) as [number, number];
  const today = wallClock(now, cutoff.timeZone);
  let at = instantOf(today.year, today.month, today.day, hour, minute, cutoff.timeZone);
  if (at.getTime() <= now.getTime()) {
    const tomorrow = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
    at = instantOf(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), hour, minute, cutoff.timeZone);
  }
  return at;
}
