/**
 * The shared pipeline after the inputs are validated: observe -> plan -> apply. Used by the CLI
 * (`plan`, `apply`) and by the CodePipeline handler, so both behave the same.
 */
import type { Downloader } from "../aws/download.ts";
import { type ApplyDeps, type ApplyReport, applyPlan, type Stager } from "./apply.ts";
import type { AwsContext } from "../aws/context.ts";
import type { Definition } from "../input/definitions.ts";
import type { Logger } from "../core/log.ts";
import { observeAll, observeFunction } from "../observe/observe.ts";
import type { JobParameters } from "../input/parameters.ts";
import { buildPlan, type Plan, type PlanEntry, planFunction } from "../plan/plan.ts";
import type { Sleep } from "../aws/retry.ts";
import { DEFAULT_TRANSFER_BUDGET_MIB, TransferBudget } from "./transfer-budget.ts";
import type { WaitOptions } from "../aws/wait.ts";

export async function makePlan(
  definition: Definition,
  parameters: JobParameters,
  aws: AwsContext,
): Promise<Plan> {
  const observations = await observeAll(definition, {
    target: aws.target,
    source: aws.source,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
  });
  return buildPlan(definition, observations, parameters.liveAlias);
}

/** One structured log line per planned function (the handler and the PR planner both log them). */
export function logPlan(plan: Plan, log: Logger): void {
  for (const e of plan.entries) {
    log.info("planned", {
      function: e.name,
      action: e.action.kind,
      desiredVersion: e.desired.version,
      liveVersion: e.live.version,
    });
  }
}

export interface ReconcileOptions {
  download: Downloader;
  logger: Logger;
  stager?: Stager;
  canStart?: () => boolean;
  sleep?: Sleep;
  wait?: WaitOptions;
  transfer?: TransferBudget;
  onResult?: ApplyDeps["onResult"];
}

export async function applyDefinition(
  definition: Definition,
  plan: Plan,
  parameters: JobParameters,
  aws: AwsContext,
  options: ReconcileOptions,
): Promise<ApplyReport> {
  const specs = new Map(definition.functions.map((f) => [f.name, f]));
  const replan = async (name: string): Promise<PlanEntry> => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`${name} is not in the definition`);
    const observation = await observeFunction(spec, {
      target: aws.target,
      source: aws.source,
      liveAlias: parameters.liveAlias,
      concurrency: 1,
    });
    return planFunction(spec, observation);
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
    logger: options.logger,
    sleep: options.sleep,
    wait: options.wait,
    transfer: options.transfer ?? new TransferBudget(transferBudgetMiB * 1024 * 1024),
    onResult: options.onResult,
  });
  if (aws.apiUsage) options.logger.info("Lambda API calls (attempts) and throttles", aws.apiUsage());
  return report;
}
