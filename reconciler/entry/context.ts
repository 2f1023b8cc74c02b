/**
 * The composition root: the AWS adapters of one run, built from its job parameters
 * (createAwsContext), and the read-only half every entry point shares, observe -> plan (makePlan).
 * The read-only entry points (the pull-request planner, the drift check, `plan`, `status`,
 * `validate`) stop here; only the handler and `apply` go on into apply/.
 *
 * `LAMBDA_GITOPS_RATE_LIMIT=off` turns the rate scheduler off (plain concurrency; for comparisons
 * such as `npm run bench`).
 */
import { createRunClients } from "../aws/clients.ts";
import { DEFAULT_RATES, type Rates, type SchedulerRegistry, sharedRegistry } from "../aws/scheduler.ts";
import type { Logger } from "../core/log.ts";
import type { Definition } from "../input/definitions.ts";
import { accountOfRoleArn, type JobParameters } from "../input/parameters.ts";
import { type AwsContext, rolloutContext } from "../observe/context.ts";
import { observeAll } from "../observe/observe.ts";
import { buildPlan, type Plan } from "../plan/plan.ts";
import { scopeOf } from "../plan/scope.ts";

export function ratesOf(parameters: JobParameters): Rates {
  return {
    control: parameters.controlRate ?? DEFAULT_RATES.control,
    getFunction: parameters.getFunctionRate ?? DEFAULT_RATES.getFunction,
  };
}

export function createAwsContext(
  parameters: JobParameters,
  options: { runId?: string; registry?: SchedulerRegistry | false } = {},
): AwsContext {
  const roleArn = parameters.sourceRoleArn;
  const accountId = roleArn ? (accountOfRoleArn(roleArn) ?? "unknown") : undefined;
  const clients = createRunClients({
    region: parameters.region,
    rates: ratesOf(parameters),
    registry: options.registry ?? (process.env.LAMBDA_GITOPS_RATE_LIMIT === "off" ? false : sharedRegistry),
    runId: options.runId,
    ...(roleArn && accountId ? { source: { roleArn, externalId: parameters.externalId, label: accountId } } : {}),
  });
  return {
    target: clients.target,
    source: clients.source && accountId ? { reader: clients.source, accountId } : undefined,
    preflight: clients.preflight,
    alarms: clients.alarms,
    ...(clients.apiUsage ? { apiUsage: clients.apiUsage } : {}),
  };
}

/** Observe every function of the definition, read the rollouts' alarms, and plan. Read-only. */
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

/** One structured log line per planned function (every Lambda entry point logs them). */
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
