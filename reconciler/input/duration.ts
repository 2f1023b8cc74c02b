/**
 * Durations in the definition (`rollout.interval`, `rollout.bake`). Pure.
 *
 * Grammar: one or more `<integer><unit>` parts with units `h`, `m`, `s`, each unit at most once and
 * in that order, no spaces: `30s`, `5m`, `1h`, and the combined forms `1h30m`, `2m30s`, `1h0m5s`.
 * Lower-case units only (`5M` could be read as months). No fractions (`1.5h`: write `1h30m`), no
 * days (write `24h`), no bare numbers (a unit is never guessed). `0s` is a valid duration; a
 * caller that needs at least one second (an interval) passes `min: 1`.
 */

export type DurationResult = { ok: true; seconds: number } | { ok: false; message: string };

const UNIT_SECONDS = { h: 3600, m: 60, s: 1 } as const;
const PART = /^(\d+)([hms])(?=\d|$)/;
/** 7 digits of hours is already far beyond any rollout; keeps the arithmetic exact. */
const MAX_DIGITS = 7;

const EXAMPLES = '"30s", "5m", "1h" or "1h30m"';

/** Parse a duration into whole seconds; `min` (default 0) is the smallest accepted value. */
export function parseDuration(text: string, options: { min?: number } = {}): DurationResult {
  const fail = (why: string): DurationResult => ({
    ok: false,
    message: `${JSON.stringify(text)} is not a duration: ${why} (write ${EXAMPLES})`,
  });
  if (text.length === 0) return fail("it is empty");
  if (/^\d+$/.test(text)) return fail(`a unit is missing (e.g. "${text}s" or "${text}m")`);
  let rest = text;
  let seconds = 0;
  let lastUnit = -1;
  const order = Object.keys(UNIT_SECONDS);
  while (rest.length > 0) {
    const match = PART.exec(rest);
    if (!match) return fail(partProblem(rest));
    const [whole, digits, unit] = match as unknown as [string, string, keyof typeof UNIT_SECONDS];
    if (digits.length > MAX_DIGITS) return fail(`${digits} is too large`);
    const index = order.indexOf(unit);
    if (index <= lastUnit) return fail(`units must appear once each, in the order h, m, s`);
    lastUnit = index;
    seconds += Number(digits) * UNIT_SECONDS[unit];
    rest = rest.slice(whole.length);
  }
  const min = options.min ?? 0;
  if (seconds < min) {
    return { ok: false, message: `${JSON.stringify(text)} is too short: at least ${formatDuration(min)}` };
  }
  return { ok: true, seconds };
}

function partProblem(rest: string): string {
  if (/^\d+[.,]\d/.test(rest)) return "fractions are not accepted";
  if (/^\d+[HMS]/.test(rest)) return "units are lower-case h, m, s";
  if (/^\d+d/.test(rest)) return 'days are not a unit (write hours, e.g. "24h")';
  if (/^\d+\s/.test(rest) || /^\s/.test(rest)) return "spaces are not accepted";
  if (/^\d+[a-zA-Z]/.test(rest)) return `unknown unit in ${JSON.stringify(rest)} (use h, m or s)`;
  return `unexpected ${JSON.stringify(rest)}`;
}

/** The canonical text of a duration in seconds: `0s`, `45s`, `5m`, `1h30m`, `2h0m5s`. */
export function formatDuration(totalSeconds: number): string {
  const whole = Math.max(0, Math.ceil(totalSeconds));
  if (whole === 0) return "0s";
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  let text = "";
  if (h > 0) text += `${h}h`;
  if (m > 0 || (h > 0 && s > 0)) text += `${m}m`;
  if (s > 0) text += `${s}s`;
  return text;
}
