/**
 * The rollout decision: a pure function of (rollout spec, LIVE as observed with its marker, alarm
 * states, now) to the next move. It keeps no state: where a rollout stands is read from AWS each
 * time (LIVE's routing plus the marker in LIVE's description, see marker.ts), so the next pipeline
 * invocation, the CLI or a re-run after a crash all continue from the same place.
 *
 * Decision vocabulary:
 * - `immediate`: no rollout applies; LIVE moves to the target in one write (no LIVE yet, a move to
 *   an older version, a revert of the file during a rollout, a LIVE on $LATEST or the primary not
 *   moving at all). In an incident nobody waits for a canary.
 * - `shift`: write the next step's routing with its marker (`first` = the first shift, preceded
 *   by the smoke invocation); `step` of `steps`, where `steps + 1` is 100%.
 * - `wait`: nothing is due before `until` (the step's interval, or the bake at 100%).
 * - `rollback`: a watched alarm is in ALARM (or has disappeared) during the rollout: LIVE goes
 *   back to the previous primary at 100%, with a marker that says so.
 * - `done`: LIVE routes as declared and nothing is left to watch.
 * - `blocked`: the rollout cannot start (a named alarm is missing or in ALARM) or was rolled back
 *   before and the file still declares the same version.
 *
 * `INSUFFICIENT_DATA` never stops a rollout (as CodeDeploy): a new version with little traffic
 * often has no datapoints yet.
 */
import type { Rollout } from "../input/rollout-schema.ts";
import { compareVersions } from "../input/versions.ts";
import type { Marker } from "./marker.ts";
import { type AliasRouting, routingOfAlias, sameRouting, toLambdaWeight } from "./routing.ts";

/** A CloudWatch alarm's state, or `missing` when no alarm has that name. */
export type { Rollout };

/** A CloudWatch alarm's state, or `missing` when no alarm has that name. */
export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA" | "missing";

/** A routing as the alias API takes it (routing.ts). */
export type RolloutRouting = AliasRouting;

export interface ObservedLive extends RolloutRouting {
  /** The semantic version LIVE's primary carries, if known. */
  version: string | null;
  /** The marker decoded from LIVE's description, if it is one. */
  marker: Marker | undefined;
}

export interface RolloutInput {
  rollout: Rollout;
  /** What the file declares (written into every marker). */
  desired: { version: string; canary?: { version: string; weight: number } };
  /** The routing LIVE ends with: the declared primary, plus the declared canary if any. */
  target: RolloutRouting;
  /** LIVE as observed; undefined when the function has no LIVE alias yet. */
  live: ObservedLive | undefined;
  /** State of every alarm of `rollout.alarms`; an alarm absent from the map counts as missing. */
  alarms: ReadonlyMap<string, AlarmState>;
  /** Milliseconds since the epoch. */
  now: number;
}

export type ImmediateReason = "no-live" | "older-version" | "revert" | "same-primary" | "unversioned-live";

export type RolloutDecision =
  | { kind: "immediate"; reason: ImmediateReason; routing: RolloutRouting }
  | {
      kind: "shift";
      routing: RolloutRouting;
      marker: Marker;
      step: number;
      steps: number;
      first: boolean;
      /** When the move after this one is due (ms), or undefined when this shift ends the rollout. */
      nextAt: number | undefined;
    }
  | { kind: "wait"; until: number; phase: "interval" | "bake"; step: number; steps: number }
  | {
      kind: "rollback";
      routing: RolloutRouting;
      marker: Marker;
      alarm: string;
      state: "ALARM" | "missing";
      step: number;
      steps: number;
    }
  | { kind: "done"; steps: number }
  | { kind: "blocked"; code: RolloutBlock; alarm?: string; reason: string };

export type RolloutBlock = "alarm-missing" | "alarm-in-alarm" | "rolled-back";

/** Decide the next move of one function's rollout. Pure. */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const { rollout, desired, target, live, now } = input;
  const steps = rollout.steps.length;
  const tv = target.functionVersion;
  if (!live) return { kind: "immediate", reason: "no-live", routing: target };

  const inFlight = rolloutInFlight(live, desired.version);
  if (inFlight?.rolledBack) {
    return {
      kind: "blocked",
      code: "rolled-back",
      reason:
        `the rollout of ${desired.version} was rolled back at step ${inFlight.step} of ${inFlight.steps + 1} ` +
        `(${isoMinute(inFlight.since * 1000)}); LIVE stays on ${inFlight.fromVersion || inFlight.fromFunctionVersion}. ` +
        "Declare another version (or revert the file) to move LIVE",
    };
  }

  if (live.functionVersion === tv) {
    const baking = inFlight && inFlight.step > inFlight.steps && sameAlias(live, target);
    if (baking) {
      const fired = firingAlarm(rollout.alarms, input.alarms);
      if (fired) return rollbackTo(input, inFlight, fired, steps + 1);
      const until = (inFlight.since + rollout.bakeSeconds) * 1000;
      if (now < until) return { kind: "wait", until, phase: "bake", step: steps + 1, steps };
      return { kind: "done", steps };
    }
    if (sameAlias(live, target)) return { kind: "done", steps };
    return { kind: "immediate", reason: live.marker?.rollout ? "revert" : "same-primary", routing: target };
  }

  if (!/^[0-9]+$/.test(live.functionVersion)) {
    // A weighted alias cannot route to $LATEST: there is nothing to shift from.
    return { kind: "immediate", reason: "unversioned-live", routing: target };
  }
  if (live.version !== null && compareVersions(desired.version, live.version) < 0) {
    return { kind: "immediate", reason: "older-version", routing: target };
  }

  const from = live.functionVersion;
  const midway =
    inFlight &&
    inFlight.fromFunctionVersion === from &&
    Object.keys(live.weights).every((version) => version === tv) &&
    (live.weights[tv] ?? 0) > 0;
  if (midway) {
    const step = stepOf(rollout.steps, (live.weights[tv] ?? 0) * 100);
    const fired = firingAlarm(rollout.alarms, input.alarms);
    if (fired) return rollbackTo(input, inFlight, fired, step);
    const due = (inFlight.since + rollout.intervalSeconds) * 1000;
    if (now < due) return { kind: "wait", until: due, phase: "interval", step, steps };
    return shiftTo(input, { fromVersion: inFlight.fromVersion, from }, step + 1, false);
  }

  // A new rollout from the primary LIVE serves now: every alarm must exist and none may fire.
  for (const alarm of rollout.alarms) {
    if (stateOf(alarm, input.alarms) === "missing") {
      return {
        kind: "blocked",
        code: "alarm-missing",
        alarm,
        reason: `alarm "${alarm}" does not exist in the target account and Region: a rollout is never unwatched`,
      };
    }
  }
  for (const alarm of rollout.alarms) {
    if (stateOf(alarm, input.alarms) === "ALARM") {
      return {
        kind: "blocked",
        code: "alarm-in-alarm",
        alarm,
        reason: `alarm "${alarm}" is in ALARM before the first shift: the rollout waits until it is not`,
      };
    }
  }
  return shiftTo(input, { fromVersion: live.version ?? "", from }, 1, true);
}

/** The marker's rollout when LIVE is exactly as the reconciler left it, rolling out `version`. */
function rolloutInFlight(live: ObservedLive, version: string): NonNullable<Marker["rollout"]> | undefined {
  const marker = live.marker;
  if (!marker?.rollout || marker.version !== version) return undefined;
  const asWritten = sameAlias(live, { functionVersion: marker.functionVersion, weights: marker.weights });
  return asWritten ? marker.rollout : undefined;
}

/** The 1-based step a weight (percent) stands on: how many steps are at or below it. */
function stepOf(steps: readonly number[], percent: number): number {
  const rounded = Math.round(percent * 100) / 100;
  return Math.max(1, steps.filter((step) => step <= rounded).length);
}

/** Same routing as Lambda stores it (weights to 1/10000, zero shares ignored). */
function sameAlias(a: RolloutRouting, b: RolloutRouting): boolean {
  return sameRouting(routingOfAlias(a), routingOfAlias(b));
}

function stateOf(alarm: string, states: ReadonlyMap<string, AlarmState>): AlarmState {
  return states.get(alarm) ?? "missing";
}

/** The first watched alarm in ALARM, else the first one that disappeared. */
function firingAlarm(
  alarms: readonly string[],
  states: ReadonlyMap<string, AlarmState>,
): { alarm: string; state: "ALARM" | "missing" } | undefined {
  for (const state of ["ALARM", "missing"] as const) {
    const alarm = alarms.find((name) => stateOf(name, states) === state);
    if (alarm !== undefined) return { alarm, state };
  }
  return undefined;
}

function sinceOf(now: number): number {
  return Math.ceil(now / 1000);
}

function shiftTo(
  input: RolloutInput,
  origin: { fromVersion: string; from: string },
  step: number,
  first: boolean,
): RolloutDecision {
  const { rollout, desired, target } = input;
  const steps = rollout.steps.length;
  const partial = step <= steps;
  const routing: RolloutRouting = partial
    ? { functionVersion: origin.from, weights: { [target.functionVersion]: toLambdaWeight(rollout.steps[step - 1]!) } }
    : { functionVersion: target.functionVersion, weights: { ...target.weights } };
  const since = sinceOf(input.now);
  const hold = partial ? rollout.intervalSeconds : rollout.bakeSeconds;
  const marker: Marker = {
    version: desired.version,
    ...(desired.canary ? { canary: { ...desired.canary } } : {}),
    functionVersion: routing.functionVersion,
    weights: routing.weights,
    rollout: { fromVersion: origin.fromVersion, fromFunctionVersion: origin.from, step, steps, since },
  };
  return {
    kind: "shift",
    routing,
    marker,
    step,
    steps,
    first,
    nextAt: partial || hold > 0 ? (since + hold) * 1000 : undefined,
  };
}

function rollbackTo(
  input: RolloutInput,
  inFlight: NonNullable<Marker["rollout"]>,
  fired: { alarm: string; state: "ALARM" | "missing" },
  step: number,
): RolloutDecision {
  const steps = input.rollout.steps.length;
  const routing: RolloutRouting = { functionVersion: inFlight.fromFunctionVersion, weights: {} };
  const marker: Marker = {
    version: input.desired.version,
    ...(input.desired.canary ? { canary: { ...input.desired.canary } } : {}),
    functionVersion: routing.functionVersion,
    weights: {},
    rollout: { ...inFlight, step, steps, since: sinceOf(input.now), rolledBack: true },
  };
  return { kind: "rollback", routing, marker, alarm: fired.alarm, state: fired.state, step, steps };
}

function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}
