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
import type { LogFields, Logger } from "../core/log.ts";
import { versionToAlias } from "../input/versions.ts";
import { findLive, liveOf } from "../observe/live.ts";
import { markerDescription } from "../observe/marker.ts";
import type { AliasState } from "../observe/state.ts";
import type { AlarmState, RolloutOutcome } from "../plan/rollout.ts";
import { type AliasRouting, resolveRouting, toAliasRouting } from "../plan/routing.ts";
import type { RolloutStep } from "../plan/steps.ts";
import { StepFailure, type StepDeps } from "./execution.ts";
import { type RolloutPort, runRollout, systemClock } from "./rollout-runner.ts";

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
  const outcome = await runRollout({ rollout: step.rollout, declared: step.declared, target: to }, port.port, {
    clock,
    ...(deadline !== undefined ? { deadline } : {}),
    ...(run.noWait ? { noWait: true } : {}),
    ...(run.mayStart === false ? { mayStart: false } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
    onEvent: (event) => {
      const { kind, ...fields } = event;
      log.info("rollout", { event: kind, ...logFields(fields) });
      run.onEvent?.(name, event);
    },
  });
  const routing = port.last() ?? to;
  const { kind, ...fields } = outcome;
  log.info("rollout outcome", { outcome: kind, ...logFields(fields) });
  return { outcome, routing };
}

/** A value's fields as log fields: objects (routings, alarm states) as JSON text. */
function logFields(value: object): LogFields {
  return Object.fromEntries(
    Object.entries(value).map(([key, field]: [string, unknown]) => [
      key,
      typeof field === "object" && field !== null ? JSON.stringify(field) : (field as string | number | boolean | undefined),
    ]),
  );
}

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
  const seen = (alias: AliasState) => {
    const live = liveOf(alias, aliases);
    last = live.routing;
    return live;
  };
  const port: RolloutPort = {
    async readLive() {
      aliases = (await target.listAliases(name)) ?? [];
      const live = findLive(aliases, liveAlias);
      if (live) last = live.routing;
      return live;
    },
    async writeLive(routing, marker, revisionId) {
      const description = markerDescription(marker);
      try {
        const written =
          revisionId === undefined
            ? await target.createAlias(name, liveAlias, { ...routing, description })
            : await target.updateAlias(name, liveAlias, { ...routing, description, revisionId });
        return { ok: true, live: seen(written) };
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
