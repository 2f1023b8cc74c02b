/**
 * Words for rollouts: the plan's rollout line, each event the runner reports (CLI), and the
 * per-function outcome (job summary, failure message). Pure. Times are UTC, to the minute when a
 * person plans around them (`16:05Z`), to the second in the live CLI log.
 */
import { formatDuration } from "../input/duration.ts";
import {
  alarmWords,
  failureReason,
  type ImmediateReason,
  type Rollout,
  rolloutFailed,
  type RolloutEvent,
  type RolloutOutcome,
  type RolloutPosition,
  stepOfText,
} from "../plan/rollout.ts";

/**
 * `16:05Z` (the day too when it is not today's, e.g. `2026-12-01 03:10Z`); `16:05:10Z` with
 * `seconds`, for a rollout whose interval or bake is under a minute (minutes would mislead).
 */
export function clockTime(ms: number, now?: number, seconds = false): string {
  const iso = new Date(ms).toISOString();
  const sameDay = now !== undefined && new Date(now).toISOString().slice(0, 10) === iso.slice(0, 10);
  const time = `${iso.slice(11, seconds ? 19 : 16)}Z`;
  return sameDay ? time : `${iso.slice(0, 10)} ${time}`;
}

/** Whether the rollout's wait in `phase` is under a minute: its times are then shown to the second. */
export function waitsUnderAMinute(rollout: Pick<Rollout, "intervalSeconds" | "bakeSeconds">, phase: "interval" | "bake"): boolean {
  return (phase === "bake" ? rollout.bakeSeconds : rollout.intervalSeconds) < 60;
}

/** `10% -> 50% -> 100%, every 5m, bake 10m, alarms a, b, smoke test` */
export function describeRollout(rollout: Rollout): string {
  const path = [...rollout.steps.map((s) => `${s}%`), "100%"].join(" -> ");
  const parts = [path];
  if (rollout.steps.length > 0) parts.push(`every ${formatDuration(rollout.intervalSeconds)}`);
  if (rollout.bakeSeconds > 0) parts.push(`bake ${formatDuration(rollout.bakeSeconds)}`);
  parts.push(rollout.alarms.length > 0 ? `alarms ${rollout.alarms.join(", ")}` : "no alarms");
  if (rollout.smoke) parts.push("smoke test first");
  return parts.join(", ");
}

/** Where a rollout stands, as the plan shows it (`rollout`: its times to the second when its waits are short). */
export function describePosition(position: RolloutPosition, now?: number, rollout?: Rollout): string {
  switch (position.kind) {
    case "shift":
      return position.first
        ? `rollout starts: ${stepOfText({ step: 1, steps: position.steps })}`
        : position.step > position.steps
          ? "rollout: shift to 100% now"
          : `rollout: shift to ${stepOfText(position)} now`;
    case "wait": {
      const at = clockTime(position.until, now, rollout !== undefined && waitsUnderAMinute(rollout, position.phase));
      return position.phase === "bake"
        ? `rollout at 100%, bake until ${at}`
        : `rollout ${stepOfText(position)}, next shift at ${at}`;
    }
    case "rollback":
      return `rollout: roll back now (alarm "${position.alarm}" ${alarmWords(position.state)} at ${stepOfText(position)})`;
  }
}

const IMMEDIATE_WORDS: Record<ImmediateReason, string> = {
  "no-live": "no LIVE yet",
  "older-version": "a move to an older version",
  revert: "a revert during a rollout",
  "same-primary": "the primary version does not change",
  "unversioned-live": "LIVE is not on a published version",
};

/** `16:05:30Z`: the live log of moves is read to the second. */
function clockSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

/** One line per runner event, for the CLI's live output. */
export function describeEvent(event: RolloutEvent): string {
  switch (event.kind) {
    case "smoke":
      return event.ok
        ? `smoke invocation answered ${event.statusCode}`
        : `smoke invocation failed (status ${event.statusCode}${event.functionError ? `, ${event.functionError}` : ""})`;
    case "shift": {
      const where = event.step > event.steps ? "100%" : `${event.weight}% (${stepOfText(event)})`;
      const next = event.nextAt === undefined ? "" : `; next move at ${clockSeconds(event.nextAt)}`;
      return `shifted to ${where}${next}`;
    }
    case "watch": {
      const states = Object.entries(event.alarms).map(([name, state]) => `${name}=${state}`);
      const what = event.phase === "bake" ? "baking" : stepOfText(event);
      return `${what}, alarms ${states.length > 0 ? states.join(" ") : "none"}; until ${clockSeconds(event.until)}`;
    }
    case "rollback":
      return `alarm "${event.alarm}" ${alarmWords(event.state)} at ${stepOfText(event)}: rolled back`;
    case "immediate":
      return `moved at once (${IMMEDIATE_WORDS[event.reason]})`;
  }
}

/** A function's rollout outcome in one sentence (job summary, CLI); a failure says why (plan/rollout.ts). */
export function describeOutcome(outcome: RolloutOutcome, now?: number, rollout?: Rollout): string {
  if (rolloutFailed(outcome)) return failureReason(outcome);
  switch (outcome.kind) {
    case "done":
      return `rolled out in ${outcome.steps + 1} step${outcome.steps === 0 ? "" : "s"}`;
    case "immediate":
      return `moved at once (${IMMEDIATE_WORDS[outcome.reason]})`;
    case "in-progress": {
      const at = clockTime(outcome.nextAt, now, rollout !== undefined && waitsUnderAMinute(rollout, outcome.phase));
      return outcome.phase === "bake"
        ? `rollout at 100%, bake until ${at}`
        : `rollout ${stepOfText(outcome)}, next shift at ${at}`;
    }
  }
}
