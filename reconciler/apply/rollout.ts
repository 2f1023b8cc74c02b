/**
 * Executes a rollout step (plan/steps.ts): builds the runner's port (./rollout-runner.ts) on the
 * Lambda and CloudWatch adapters and runs the rollout as far as this run may (to the end, the next
 * due move with --no-wait, or the hand-over before the Lambda deadline). LIVE is read once with
 * ListAliases (its routing, the semantic version behind it, the marker in its description); every
 * shift is an UpdateAlias guarded by the RevisionId, and its answer is the next state.
 */
import { invokeBefore } from "./deadline.ts";
import type { AlarmReader } from "../aws/cloudwatch.ts";
import type { LambdaWriter } from "../aws/lambda.ts";
import { errorName } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { versionToAlias } from "../input/versions.ts";
import type { AliasState } from "../observe/state.ts";
import { decodeMarker, encodeMarker, type Marker } from "../plan/marker.ts";
import { semverOf } from "../plan/plan.ts";
import type { AlarmState } from "../plan/rollout.ts";
import { type AliasRouting, resolveRouting, toAliasRouting } from "../plan/routing.ts";
import type { RolloutStep } from "../plan/steps.ts";
import { describeEvent, describeOutcome, rolloutFailed } from "../report/rollout.ts";
import { StepFailure, type StepDeps } from "./execution.ts";
import {
  type Clock,
  type LiveSnapshot,
  type RolloutEvent,
  type RolloutOutcome,
  type RolloutPort,
  runRollout,
  systemClock,
} from "./rollout-runner.ts";

/** How this run drives rollouts: the clock, how far it may go, who hears about each move. */
export interface RolloutRunDeps {
  alarms?: AlarmReader;
  clock?: Clock;
  /** Hand over before this time (ms): the Lambda deadline less a reserve (asked when a rollout starts). */
  deadline?: () => number;
  /** Make the next due move only (CLI --no-wait). */
  noWait?: boolean;
  /** false: continue rollouts only, never start one (a pipeline continuation after a rollout hand-over). */
  mayStart?: boolean;
  signal?: AbortSignal;
  onEvent?: (functionName: string, event: RolloutEvent) => void;
}

export interface RolloutStepOutcome {
  outcome: RolloutOutcome;
  /** LIVE's routing after this run. */
  routing: AliasRouting;
}

export async function rolloutStep(
  name: string,
  step: RolloutStep,
  produced: ReadonlyMap<number, string>,
  deps: StepDeps,
  log: Logger,
): Promise<RolloutStepOutcome> {
  const to = toAliasRouting(resolveRouting(step.to, produced));
  if (!to) throw new StepFailure(`${step.alias}: the rollout's target version was not published by this run`);
  const run = deps.rollouts ?? {};
  const deadline = run.deadline?.();
  const port = createRolloutPort(deps.target, run.alarms, name, step.alias, versionToAlias(step.declared.version), deadline);
  const clock = run.clock ?? systemClock;
  const outcome = await runRollout({ rollout: step.rollout, desired: step.declared, target: to }, port.port, {
    clock,
    ...(deadline !== undefined ? { deadline } : {}),
    ...(run.noWait ? { noWait: true } : {}),
    ...(run.mayStart === false ? { mayStart: false } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
    onEvent: (event) => {
      log.info("rollout", { event: event.kind, detail: describeEvent(event) });
      run.onEvent?.(name, event);
    },
  });
  const routing = port.last() ?? to;
  log.info("rollout outcome", { outcome: outcome.kind, detail: describeOutcome(outcome, clock.now()) });
  return { outcome, routing };
}

/** Whether the rollout's outcome fails the function (rolled back, smoke failed, blocked...). */
export { rolloutFailed };

export function createRolloutPort(
  target: LambdaWriter,
  alarms: AlarmReader | undefined,
  name: string,
  liveAlias: string,
  versionAlias: string,
  /** The smoke invocation is aborted here (ms; the Lambda deadline less the reserve) and handed over. */
  deadline?: number,
): { port: RolloutPort; last: () => AliasRouting | undefined } {
  let aliases: AliasState[] = [];
  let last: AliasRouting | undefined;
  const snapshot = (alias: AliasState): LiveSnapshot => {
    last = { functionVersion: alias.functionVersion, weights: { ...alias.weights } };
    return {
      functionVersion: alias.functionVersion,
      weights: { ...alias.weights },
      version: semverOf(alias.functionVersion, aliases),
      marker: decodeMarker(alias.description),
      revisionId: alias.revisionId,
    };
  };
  const port: RolloutPort = {
    async readLive() {
      aliases = (await target.listAliases(name)) ?? [];
      const live = aliases.find((a) => a.name === liveAlias);
      return live ? snapshot(live) : undefined;
    },
    async writeLive(routing, marker, revisionId) {
      const description = describe(marker);
      try {
        const written =
          revisionId === undefined
            ? await target.createAlias(name, liveAlias, { ...routing, description })
            : await target.updateAlias(name, liveAlias, { ...routing, description, revisionId });
        return { ok: true, live: snapshot(written) };
      } catch (error) {
        const code = errorName(error);
        if (code === "PreconditionFailedException" || code === "ResourceConflictException") return { ok: false, conflict: true };
        throw error;
      }
    },
    async alarmStates(names): Promise<ReadonlyMap<string, AlarmState>> {
      // Without a reader every alarm reads as missing: a rollout is never unwatched.
      return alarms ? alarms.alarmStates(names) : new Map(names.map((n) => [n, "missing" as const]));
    },
    smoke: (payload) => invokeBefore(target, { name, qualifier: versionAlias, payload }, deadline),
  };
  return { port, last: () => last };
}

function describe(marker: Marker): string {
  return encodeMarker(marker) ?? `lambda-gitops: ${marker.version}`.slice(0, 256);
}
