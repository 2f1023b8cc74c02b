/**
 * The shared pipeline after the inputs are validated: observe -> plan -> apply. Used by the CLI
 * (`plan`, `apply`) and by the CodePipeline handler, so both behave the same.
 */
import type { Downloader } from "../aws/download.ts";
import { type ApplyDeps, type ApplyReport, applyPlan } from "./apply.ts";
import type { Stager } from "./execution.ts";
import type { AwsContext } from "../aws/context.ts";
import type { Definition, FunctionSpec } from "../input/definitions.ts";
import type { RolloutContext } from "../plan/rollout-plan.ts";
import type { AlarmState } from "../plan/rollout.ts";
import type { RolloutRunDeps } from "./execution.ts";
import type { Logger } from "../core/log.ts";
import { observeAll, observeFunction } from "../observe/observe.ts";
import type { JobParameters } from "../input/parameters.ts";
import { TARGET_ACCOUNT, type FunctionKey, keyId } from "../observe/state.ts";
import { buildPlan, type Plan, type PlanEntry, type PlanScope, planFunction } from "../plan/plan.ts";
import type { Sleep } from "../aws/retry.ts";
import { DEFAULT_TRANSFER_BUDGET_MIB, TransferBudget } from "./transfer-budget.ts";
import type { WaitOptions } from "../aws/wait.ts";

export async function makePlan(
  definition: Definition,
  parameters: JobParameters,
  aws: AwsContext,
  now: () => number = Date.now,
): Promise<Plan> {
  const observations = await observeAll(definition, {
    target: aws.target,
    source: aws.source,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
  });
  const context = await rolloutContext(definition.functions, aws, now);
  return buildPlan(definition, observations, parameters.liveAlias, scopeOf(parameters), context);
}

/**
 * The states of the alarms the rollouts name (DescribeAlarms by exact name, only when a function
 * has a rollout with alarms), and the time to plan at. Without an alarm reader every alarm reads
 * as missing, which blocks: a rollout is never unwatched.
 */
export async function rolloutContext(
  functions: readonly FunctionSpec[],
  aws: Pick<AwsContext, "alarms">,
  now: () => number = Date.now,
): Promise<RolloutContext> {
  const names = [...new Set(functions.flatMap((f) => f.rollout?.alarms ?? []))];
  const alarms = names.length > 0 && aws.alarms ? await aws.alarms.alarmStates(names) : new Map<string, AlarmState>();
  return { alarms, now: now() };
}

/**
 * The key scope of this run's functions: the target account is the placeholder "target" (its id
 * is not known without an STS call), the Region is the Lambda client's (parameters.region, or the
 * SDK's default chain, named "default").
 */
export function scopeOf(parameters: Pick<JobParameters, "region">): PlanScope {
  return { account: TARGET_ACCOUNT, region: parameters.region ?? "default" };
}

/** One structured log line per planned function (the handler and the PR planner both log them). */
export function logPlan(plan: Plan, log: Logger): void {
  for (const e of plan.entries) {
    log.info("planned", {
      function: e.name,
      action: e.action.kind,
      desiredVersion: e.declared.version,
      liveVersion: e.live?.version ?? null,
      ...(e.action.kind === "blocked" ? { blockCode: e.action.code, reason: e.action.reason } : {}),
    });
  }
}

export interface ReconcileOptions {
  download: Downloader;
  logger: Logger;
  stager?: Stager;
  canStart?: () => boolean;
  /** Milliseconds left before the invocation must report: waits and downloads hand over below their need. */
  timeLeftMs?: () => number;
  sleep?: Sleep;
  wait?: WaitOptions;
  transfer?: TransferBudget;
  onResult?: ApplyDeps["onResult"];
  /** How rollouts run in this apply (deadline, --no-wait, events); the alarms reader comes from `aws`. */
  rollouts?: Omit<RolloutRunDeps, "alarms">;
  /** Which run promotes ("job <id>"), recorded in each new version alias's description. */
  origin?: string;
}

export async function applyDefinition(
  definition: Definition,
  plan: Plan,
  parameters: JobParameters,
  aws: AwsContext,
  options: ReconcileOptions,
): Promise<ApplyReport> {
  const scope = scopeOf(parameters);
  const specs = new Map(
    definition.functions.map((f) => [keyId({ account: scope.account, region: scope.region, name: f.name }), f]),
  );
  const replan = async (key: FunctionKey): Promise<PlanEntry> => {
    const spec = specs.get(keyId(key));
    if (!spec) throw new Error(`${keyId(key)} is not in the definition`);
    const observation = await observeFunction(spec, {
      target: aws.target,
      source: aws.source,
      liveAlias: parameters.liveAlias,
      concurrency: 1,
    });
    return planFunction(spec, observation, parameters.liveAlias, scope, await rolloutContext([spec], aws));
  };
  const transferBudgetMiB = parameters.transferBudgetMiB ?? DEFAULT_TRANSFER_BUDGET_MIB;
  const report = await applyPlan(plan, {
    target: aws.target,
    source: aws.source,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
    download: options.download,
    replan,
    stager: options.stager,
    canStart: options.canStart,
    timeLeftMs: options.timeLeftMs,
    logger: options.logger,
    sleep: options.sleep,
    wait: options.wait,
    transfer: options.transfer ?? new TransferBudget(transferBudgetMiB * 1024 * 1024),
    onResult: options.onResult,
    ...(options.origin ? { origin: options.origin } : {}),
    rollouts: { ...options.rollouts, ...(aws.alarms ? { alarms: aws.alarms } : {}) },
  });
  if (aws.apiUsage) options.logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  return report;
}
