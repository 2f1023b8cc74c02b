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
 * - `done`: LIVE routes as declared and nothing is left to watch. Once the bake deadline has passed
 *   (or the marker says done) the rollout is over: its alarms are not read, and an alarm that fires
 *   later is never a reason to move LIVE. `record`: the marker still says "baking"; a runner that
 *   is already running writes the marker that says done (the completing write, no routing change).
 * - `blocked`: the rollout cannot start (a named alarm is missing or in ALARM) or was rolled back
 *   before and the file still declares the same version.
 * - `stopped`: people win. LIVE's marker says the reconciler was rolling out the declared version,
 *   but LIVE no longer routes as that marker says it was written (and not as declared either):
 *   someone moved LIVE during the rollout. Nothing is written, so every later run of the same
 *   declaration finds the same marker and the same routing and stops again; declaring another
 *   version (or a revert, whose write replaces the marker) starts over.
 *
 * `INSUFFICIENT_DATA` never stops a rollout (as CodeDeploy): a new version with little traffic
 * often has no datapoints yet.
 */
import type { Declared } from "../input/definitions.ts";
import type { Rollout } from "../input/rollout-schema.ts";
import { compareVersions } from "../input/versions.ts";
import type { Live } from "../observe/live.ts";
import { type Marker, markerOf, type RolloutMarker } from "../observe/marker.ts";
import { type AliasRouting, aliasRouting, isPublishedVersion } from "../observe/state.ts";
import { routingOfAlias, sameRouting, toLambdaWeight } from "./routing.ts";

export type { Rollout };

/** A CloudWatch alarm's state, or `missing` when no alarm has that name. */
export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA" | "missing";

/** A routing as the alias API takes it (routing.ts). */
export type RolloutRouting = AliasRouting;

export interface RolloutInput {
  rollout: Rollout;
  /** What the file declares (written into every marker). */
  declared: Declared;
  /** The routing LIVE ends with: the declared primary, plus the declared canary if any. */
  target: RolloutRouting;
  /** LIVE as observed; null when the function has no LIVE alias yet. */
  live: Live | null;
  /** State of every alarm of `rollout.alarms`; an alarm absent from the map counts as missing. */
  alarms: ReadonlyMap<string, AlarmState>;
  /** Milliseconds since the epoch. */
  now: number;
}

// ---- The rollout's vocabulary, declared once: the plan's position, the decision, the runner's
// ---- events and outcomes are built from these pieces.

/** Step `step` of a rollout with `steps` partial steps; `steps + 1` is 100% (see stepOfText). */
export interface StepOf {
  step: number;
  steps: number;
}

/** Waiting for the next shift (`interval`) or for the end of the bake at 100% (`bake`). */
export type RolloutPhase = "interval" | "bake";

/** A watched alarm fired during the rollout: in ALARM, or it disappeared. */
export interface AlarmFired extends StepOf {
  alarm: string;
  state: "ALARM" | "missing";
}

export type ImmediateReason = "no-live" | "older-version" | "revert" | "same-primary" | "unversioned-live";

export type RolloutBlock = "alarm-missing" | "alarm-in-alarm" | "rolled-back" | "stopped";

/** Where a rollout stands: the next move the decision made (the plan's rollout step carries it). */
export type RolloutPosition =
  | ({ kind: "shift"; first: boolean } & StepOf)
  | ({ kind: "wait"; until: number; phase: RolloutPhase } & StepOf)
  | ({ kind: "rollback" } & AlarmFired);

/** A write of LIVE: the routing and the marker that goes with it. */
export interface LiveWrite {
  routing: RolloutRouting;
  marker: Marker;
}

export type RolloutDecision =
  | { kind: "immediate"; reason: ImmediateReason; routing: RolloutRouting }
  /** `nextAt`: when the move after this one is due (ms), or undefined when this shift ends the rollout. */
  | (Extract<RolloutPosition, { kind: "shift" }> & LiveWrite & { nextAt: number | undefined })
  | Extract<RolloutPosition, { kind: "wait" }>
  | (Extract<RolloutPosition, { kind: "rollback" }> & LiveWrite)
  | { kind: "done"; steps: number; record?: LiveWrite }
  | { kind: "blocked"; code: RolloutBlock; alarm?: string; reason: string };

/** What the runner reports as it goes (the CLI prints each, the log records each). */
export type RolloutEvent =
  | { kind: "smoke"; ok: boolean; statusCode: number; functionError?: string }
  | ({ kind: "shift"; weight: number; nextAt: number | undefined } & StepOf)
  | ({ kind: "watch"; phase: RolloutPhase; until: number; alarms: Record<string, AlarmState> } & StepOf)
  | ({ kind: "rollback" } & AlarmFired)
  | { kind: "immediate"; reason: ImmediateReason };

/** How far one run took a rollout. A failed rollout is one of RolloutFailure's kinds (rolloutFailed). */
export type RolloutOutcome =
  /** The rollout finished (`shifts` = writes this run made; `steps` = the rollout's partial steps). */
  | { kind: "done"; steps: number; shifts: number }
  /** LIVE moved in one write: the rollout does not apply (revert, older version, no LIVE...). */
  | { kind: "immediate"; reason: ImmediateReason; routing: RolloutRouting }
  /** Still running; the next run continues at `nextAt` (ms). */
  | ({ kind: "in-progress"; phase: RolloutPhase; nextAt: number; shifts: number } & StepOf)
  | RolloutFailure;

export type RolloutFailure =
  | ({ kind: "rolled-back" } & AlarmFired)
  | { kind: "smoke-failed"; statusCode: number; functionError: string | undefined; excerpt: string }
  | { kind: "blocked"; code: RolloutBlock | "moved-elsewhere"; alarm?: string; reason: string }
  | { kind: "conflict"; reason: string }
  /** A write that did not change the decision (LIVE read back as before): the loop stops. */
  | ({ kind: "no-progress" } & StepOf);

/** Whether the outcome fails the function (the job fails naming it). */
export function rolloutFailed(outcome: RolloutOutcome): outcome is RolloutFailure {
  return (
    outcome.kind === "rolled-back" ||
    outcome.kind === "smoke-failed" ||
    outcome.kind === "blocked" ||
    outcome.kind === "conflict" ||
    outcome.kind === "no-progress"
  );
}

/** Why a rollout failed, in one sentence: the function's error in every report. */
export function failureReason(outcome: RolloutFailure): string {
  switch (outcome.kind) {
    case "rolled-back":
      return `rolled back by alarm "${outcome.alarm}" (${alarmWords(outcome.state)}) at ${stepOfText(outcome)}`;
    case "smoke-failed":
      return (
        `smoke invocation failed (status ${outcome.statusCode}${outcome.functionError ? `, ${outcome.functionError}` : ""}): ` +
        `no traffic was moved${outcome.excerpt ? `; answer: ${outcome.excerpt}` : ""}`
      );
    case "blocked":
      return outcome.code === "stopped" ? `stopped: ${outcome.reason}` : outcome.reason;
    case "conflict":
      return outcome.reason;
    case "no-progress":
      return `the write of ${stepOfText(outcome)} did not change what LIVE reads back: stopped instead of writing it again`;
  }
}

/**
 * "step 2 of 3": the one way a rollout's step is counted. A rollout of `[10, 50]` goes 10% -> 50%
 * -> 100%: three steps, the last (100%) being `steps + 1` in the marker.
 */
export function stepOfText(at: StepOf): string {
  return `step ${at.step} of ${at.steps + 1}`;
}

export function alarmWords(state: AlarmFired["state"]): string {
  return state === "ALARM" ? "in ALARM" : "missing";
}

/** Decide the next move of one function's rollout. Pure. */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const { rollout, declared, target, live, now } = input;
  const steps = rollout.steps.length;
  const tv = target.functionVersion;
  if (!live) return { kind: "immediate", reason: "no-live", routing: target };

  const moved = movedDuringRollout(live, declared.version, target);
  if (moved) return { kind: "blocked", code: "stopped", reason: moved };
  const inFlight = rolloutInFlight(live, declared.version);
  if (inFlight?.rolledBack) {
    return {
      kind: "blocked",
      code: "rolled-back",
      reason:
        `the rollout of ${declared.version} was rolled back at ${stepOfText(inFlight)} ` +
        `(${isoMinute(inFlight.since * 1000)}); LIVE stays on ${inFlight.fromVersion || inFlight.fromFunctionVersion}. ` +
        "Declare another version (or revert the file) to move LIVE",
    };
  }

  const routing = live.routing;
  if (routing.functionVersion === tv) {
    const baking = inFlight && inFlight.step > inFlight.steps && sameAlias(routing, target);
    if (baking && !inFlight.done) {
      // The bake's end is read before any alarm: a finished rollout is never rolled back.
      const until = (inFlight.since + rollout.bakeSeconds) * 1000;
      if (now >= until) return { kind: "done", steps, record: doneWrite(input, inFlight) };
      const fired = firingAlarm(rollout.alarms, input.alarms);
      if (fired) return rollbackTo(input, inFlight, fired, steps + 1);
      return { kind: "wait", until, phase: "bake", step: steps + 1, steps };
    }
    if (sameAlias(routing, target)) return { kind: "done", steps };
    return { kind: "immediate", reason: live.marker?.rollout ? "revert" : "same-primary", routing: target };
  }

  if (!isPublishedVersion(routing.functionVersion)) {
    // A weighted alias cannot route to $LATEST: there is nothing to shift from.
    return { kind: "immediate", reason: "unversioned-live", routing: target };
  }
  if (live.version !== null && compareVersions(declared.version, live.version) < 0) {
    return { kind: "immediate", reason: "older-version", routing: target };
  }

  const from = routing.functionVersion;
  const midway =
    inFlight &&
    inFlight.fromFunctionVersion === from &&
    Object.keys(routing.weights).every((version) => version === tv) &&
    (routing.weights[tv] ?? 0) > 0;
  if (midway) {
    const step = stepOf(rollout.steps, (routing.weights[tv] ?? 0) * 100);
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

/**
 * People win: LIVE's marker records an unfinished rollout of `version` (running, or held after a
 * rollback), yet LIVE routes neither as that marker says it was written nor as declared. Someone
 * moved LIVE during the rollout; the reason names where it is now. undefined otherwise.
 */
function movedDuringRollout(live: Live, version: string, target: RolloutRouting): string | undefined {
  const marker = live.marker;
  if (!marker?.rollout || marker.rollout.done || marker.version !== version) return undefined;
  if (sameAlias(live.routing, marker) || sameAlias(live.routing, target)) return undefined;
  return `LIVE was moved outside lambda-gitops during the rollout of ${version} (now ${routingWords(live, version, target)})`;
}

/** "1.0.0 at 100%", "1.0.0 at 80%, 1.1.0 at 20%": LIVE's routing with the versions it can name. */
function routingWords(live: Live, version: string, target: RolloutRouting): string {
  const name = (fv: string) =>
    fv === live.routing.functionVersion && live.version !== null ? live.version : fv === target.functionVersion ? version : `v${fv}`;
  const shares = Object.entries(live.routing.weights).filter(([, w]) => w > 0);
  const primary = Math.round((1 - shares.reduce((sum, [, w]) => sum + w, 0)) * 10000) / 100;
  return [[live.routing.functionVersion, primary] as const, ...shares.map(([fv, w]) => [fv, Math.round(w * 10000) / 100] as const)]
    .map(([fv, percent]) => `${name(fv)} at ${percent}%`)
    .join(", ");
}

/** The marker's rollout when LIVE is exactly as the reconciler left it, rolling out `version`. */
function rolloutInFlight(live: Live, version: string): RolloutMarker | undefined {
  const marker = live.marker;
  if (!marker?.rollout || marker.version !== version) return undefined;
  const asWritten = sameAlias(live.routing, marker);
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
  const { rollout, declared, target } = input;
  const steps = rollout.steps.length;
  const partial = step <= steps;
  const routing: RolloutRouting = partial
    ? { functionVersion: origin.from, weights: { [target.functionVersion]: toLambdaWeight(rollout.steps[step - 1]!) } }
    : aliasRouting(target);
  const since = sinceOf(input.now);
  const hold = partial ? rollout.intervalSeconds : rollout.bakeSeconds;
  // The last shift with no bake completes the rollout: its marker says done.
  const completes = !partial && hold === 0;
  const marker = markerOf(declared, routing, {
    rollout: { fromVersion: origin.fromVersion, fromFunctionVersion: origin.from, step, steps, since, ...(completes ? { done: true } : {}) },
  });
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

/** The completing write after the bake: LIVE's routing unchanged, its marker saying done. */
function doneWrite(input: RolloutInput, inFlight: RolloutMarker): LiveWrite {
  const routing = aliasRouting(input.target);
  return { routing, marker: markerOf(input.declared, routing, { rollout: { ...inFlight, done: true } }) };
}

function rollbackTo(
  input: RolloutInput,
  inFlight: RolloutMarker,
  fired: { alarm: string; state: "ALARM" | "missing" },
  step: number,
): RolloutDecision {
  const steps = input.rollout.steps.length;
  const routing: RolloutRouting = { functionVersion: inFlight.fromFunctionVersion, weights: {} };
  const marker = markerOf(input.declared, routing, {
    rollout: { ...inFlight, step, steps, since: sinceOf(input.now), rolledBack: true },
  });
  return { kind: "rollback", routing, marker, alarm: fired.alarm, state: fired.state, step, steps };
}

function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}
