/**
 * Apply a plan made by makePlan (entry/context.ts): the shared apply half of the CLI's `apply` and
 * the CodePipeline handler, so both behave the same. A function whose guarded write met a
 * concurrent change is observed and planned again once (replan).
 */
import type { Downloader } from "../aws/download.ts";
import { type ApplyDeps, type ApplyReport, applyPlan } from "./apply.ts";
import type { Stager } from "./execution.ts";
import type { Definition } from "../input/definitions.ts";
import type { RolloutRunDeps } from "./execution.ts";
import type { Logger } from "../core/log.ts";
import { type AwsContext, rolloutContext } from "../observe/context.ts";
import { observeFunction } from "../observe/observe.ts";
import type { JobParameters } from "../input/parameters.ts";
import { type FunctionKey, keyId } from "../observe/state.ts";
import { type Plan, type PlanEntry, planFunction } from "../plan/plan.ts";
import { scopeOf } from "../plan/scope.ts";
import type { Sleep } from "../aws/retry.ts";
import { DEFAULT_TRANSFER_BUDGET_MIB, TransferBudget } from "./transfer-budget.ts";
import type { WaitOptions } from "../aws/wait.ts";

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
    rollouts: { ...options.rollouts, ...(aws.alarms ? { alarms: aws.alarms } : {}) },
  });
  if (aws.apiUsage) options.logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  return report;
}
