/**
 * The scheduled drift check: an EventBridge-scheduled Lambda function (dist/drift.mjs, export
 * `handler`, deployed by infra/drift.yaml) that tells whether someone moved LIVE out of band. A
 * short pipeline of named stages, in the style of the pull-request planner (./pr-plan.ts):
 *   settings and the stack's pin -> pipeline parameters (GetPipeline) within the pin -> definition
 *   file at the head of the pipeline's branch (GetFile) -> observe -> plan -> drift per function
 *   (plan/drift.ts) -> attribution for the drifted ones only (CloudTrail LookupEvents, 2
 *   requests/s) -> metric + event (+ optional restart).
 * The front half (parameters -> pin -> definition) is the handler's and the planner's (./front.ts):
 * parameters that widen the stack's ALLOWED_PREFIXES, or a definition naming a function outside
 * them or a protected one (PROTECTED_FUNCTIONS, this function itself), are not checked.
 *
 * - Read-only on Lambda: it reads with ListAliases (and GetFunction where planning needs it) and
 *   never calls a Lambda write API; its role has none (infra/drift.yaml).
 * - One source of truth: prefixes, LIVE alias and file path come from the pipeline's own Invoke
 *   action `UserParameters`, parsed by the reconciler's parser.
 * - Reports: metric `DriftedFunctions` (namespace `LambdaGitops` by default, dimension `Pipeline`)
 *   on every run, 0 included, so an alarm can watch it; an EventBridge event (source
 *   `lambda-gitops`, detail-type `lambda-gitops drift`) listing the drifted functions and who
 *   changed them, only when something drifted.
 * - `ON_DRIFT=start-pipeline` starts the pipeline when something drifted, so the file wins again.
 *   It is a setting of this check, not a job parameter: the check's role is what needs the
 *   permission (infra/drift.yaml grants it only then), and the pipeline's job never starts itself.
 * - Problems in the inputs (settings, parameters, a missing or invalid file) never throw: they are
 *   logged and returned. AWS errors throw, so the scheduled invocation fails visibly (Errors metric).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { createTrailReader, type TrailReader } from "../aws/cloudtrail.ts";
import { type CodeCommitAdapter, createCodeCommitAdapter } from "../aws/codecommit.ts";
import type { AwsContext } from "../observe/context.ts";
import { createAwsContext, logPlan } from "./context.ts";
import { createEventPublisher, type EventPublisher } from "../aws/events.ts";
import { createMetricsPublisher, DRIFT_NAMESPACE, type MetricsPublisher } from "../aws/metrics.ts";
import { createPipelineConfigReader, type PipelineConfigReader } from "../aws/pipeline-config.ts";
import { createPipelineStarter, type PipelineStarter } from "../aws/pipeline-start.ts";
import { formatProblem } from "../core/errors.ts";
import { entryLogger, type Logger } from "../core/log.ts";
import type { JobParameters } from "../input/parameters.ts";
import { scopeOf } from "../plan/scope.ts";
import { observeAll } from "../observe/observe.ts";
import { driftOf, type DriftVerdict } from "../plan/drift.ts";
import { buildPlan, semverOf } from "../plan/plan.ts";
import { attribute, type DriftDetail, type DriftedFunction, describeDrift, driftedOf } from "../report/drift.ts";
import { type PipelineAction, pinnedDefinition, pipelineActionSchema, readActionParameters, readActionSettings } from "./front.ts";
import type { LambdaContext } from "./handler.ts";

export const DRIFT_SOURCE = "lambda-gitops";
export const DRIFT_DETAIL_TYPE = "lambda-gitops drift";
/** How far back CloudTrail is searched for who changed a drifted function (LookupEvents keeps 90 days). */
export const ATTRIBUTION_LOOKBACK_MS = 7 * 24 * 3600 * 1000;

const settingsSchema = pipelineActionSchema.extend({
  REPOSITORY_NAME: z.string({ error: "is not set" }).regex(/^[\w.-]{1,100}$/, "expected a CodeCommit repository name"),
  BRANCH_NAME: z.string({ error: "is not set" }).min(1).max(256),
  RECONCILER_ROLE_ARN: z
    .union([z.literal(""), z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "expected an IAM role ARN")])
    .optional(),
  ON_DRIFT: z.enum(["report", "start-pipeline"]).optional(),
  METRIC_NAMESPACE: z.union([z.literal(""), z.string().regex(/^[A-Za-z0-9./#:_-]{1,255}$/)]).optional(),
});

export interface DriftSettings extends PipelineAction {
  repositoryName: string;
  branchName: string;
  reconcilerRoleArn: string | undefined;
  onDrift: "report" | "start-pipeline";
  namespace: string;
}

/** The check's settings and the stack's pin (ALLOWED_PREFIXES, PROTECTED_FUNCTIONS, its own name). */
export function readDriftSettings(
  env: Record<string, string | undefined>,
): { ok: true; settings: DriftSettings } | { ok: false; problems: string[] } {
  const read = readActionSettings(settingsSchema, env);
  if (!read.ok) return { ok: false, problems: read.problems.map((p) => `${p.variable}: ${p.message}`) };
  const e = read.values;
  return {
    ok: true,
    settings: {
      ...read.action,
      repositoryName: e.REPOSITORY_NAME,
      branchName: e.BRANCH_NAME,
      reconcilerRoleArn: e.RECONCILER_ROLE_ARN || undefined,
      onDrift: e.ON_DRIFT ?? "report",
      namespace: e.METRIC_NAMESPACE || DRIFT_NAMESPACE,
    },
  };
}

export interface DriftDeps {
  pipeline: PipelineConfigReader;
  codecommit: CodeCommitAdapter;
  /** Lambda, read-only: no source account (drift is about this account's LIVE). */
  aws: (parameters: JobParameters) => AwsContext;
  trail: TrailReader;
  metrics: MetricsPublisher;
  events: EventPublisher;
  starter: PipelineStarter;
  env: Record<string, string | undefined>;
  logger: Logger;
  now: () => Date;
}

export function defaultDriftDeps(): DriftDeps {
  return {
    pipeline: createPipelineConfigReader(),
    codecommit: createCodeCommitAdapter(),
    aws: (parameters) => createAwsContext({ ...parameters, sourceRoleArn: undefined }, { runId: "drift" }),
    trail: createTrailReader(),
    metrics: createMetricsPublisher(),
    events: createEventPublisher(),
    starter: createPipelineStarter(),
    env: process.env,
    logger: entryLogger(process.env, "info"),
    now: () => new Date(),
  };
}

/** Lambda entry point (dist/drift.mjs, export `handler`), target of the schedule rule. */
export async function handler(_event: unknown, context: LambdaContext): Promise<DriftResult> {
  const deps = defaultDriftDeps();
  return runDriftCheck({ ...deps, logger: deps.logger.child({ requestId: context.awsRequestId }) });
}

export type DriftResult =
  | { kind: "not-checked"; stage: "settings" | "pipeline" | "parameters" | "file" | "definition"; problems: string[] }
  | { kind: "checked"; detail: DriftDetail; verdicts: Record<string, DriftVerdict> };

export async function runDriftCheck(deps: DriftDeps): Promise<DriftResult> {
  const log = deps.logger;
  const notChecked = (stage: Extract<DriftResult, { kind: "not-checked" }>["stage"], problems: string[]): DriftResult => {
    log.error("drift check could not run", { stage, problems });
    return { kind: "not-checked", stage, problems };
  };
  // settings
  const read = readDriftSettings(deps.env);
  if (!read.ok) return notChecked("settings", read.problems);
  const settings = read.settings;

  // pipeline parameters: the policy the pipeline enforces, within the stack's pin
  const action = await readActionParameters(deps.pipeline, settings);
  if (!action.ok) {
    return action.stage === "pipeline"
      ? notChecked("pipeline", [action.message])
      : notChecked("parameters", action.problems.map(formatProblem));
  }
  const { parameters, file } = action;

  // definition file at the head of the pipeline's branch
  const got = await deps.codecommit.getFile(settings.repositoryName, settings.branchName, file);
  if (got.kind !== "found") return notChecked("file", [got.message]);
  const desired = pinnedDefinition(got.text, file, parameters, settings.pin);
  if (!desired.ok) return notChecked("definition", desired.problems.map(formatProblem));

  // observe -> plan (read-only)
  const aws = deps.aws(parameters);
  const observations = await observeAll(desired.definition, {
    target: aws.target,
    source: undefined,
    liveAlias: parameters.liveAlias,
    concurrency: parameters.concurrency,
  });
  const plan = buildPlan(desired.definition, observations, parameters.liveAlias, scopeOf(parameters));
  logPlan(plan, log);

  // drift per function
  const verdicts: Record<string, DriftVerdict> = {};
  const drifted: DriftedFunction[] = [];
  const unknown: string[] = [];
  const until = deps.now();
  for (const entry of plan.entries) {
    const seen = observations.get(entry.name);
    if (seen?.kind !== "observed") {
      unknown.push(entry.name);
      continue;
    }
    const verdict = driftOf(entry);
    verdicts[entry.name] = verdict;
    if (verdict.kind === "unknown") unknown.push(entry.name);
    if (verdict.kind !== "drifted") continue;
    // attribution: CloudTrail only for drifted functions (LookupEvents allows 2 requests/s)
    const events = await deps.trail.lambdaWrites(entry.name, {
      since: new Date(until.getTime() - ATTRIBUTION_LOOKBACK_MS),
      until,
    });
    const changedBy = attribute(events, {
      functionName: entry.name,
      liveAlias: parameters.liveAlias,
      reconcilerRoleArn: settings.reconcilerRoleArn,
      semverOf: (v) => semverOf(v, seen.aliases),
    });
    const d = driftedOf(entry.name, verdict, changedBy);
    drifted.push(d);
    log.warn("drift", { function: entry.name, drift: describeDrift(d) });
  }

  const detail: DriftDetail = {
    pipeline: settings.pipelineName,
    checkedAt: until.toISOString(),
    liveAlias: parameters.liveAlias,
    functions: desired.definition.functions.length,
    drifted,
    unknown,
    selfHeal: null,
  };
  await deps.metrics.putDriftedFunctions({
    namespace: settings.namespace,
    pipeline: settings.pipelineName,
    count: drifted.length,
    at: until,
  });
  if (drifted.length > 0) {
    if (settings.onDrift === "start-pipeline") {
      const id = await deps.starter.start(settings.pipelineName, selfHealToken(settings.pipelineName, drifted));
      detail.selfHeal = { pipelineExecutionId: id };
      log.info("started the pipeline to converge again", { pipeline: settings.pipelineName, pipelineExecutionId: id });
    }
    await deps.events.put({ source: DRIFT_SOURCE, detailType: DRIFT_DETAIL_TYPE, detail });
  }
  log.info("drift check done", { functions: detail.functions, drifted: drifted.length, unknown: unknown.length });
  return { kind: "checked", detail, verdicts };
}

/**
 * StartPipelineExecution's idempotency token (1-128 of [a-zA-Z0-9-]): the same drift (functions and
 * routings) gives the same token, so a retried invocation does not start a second execution.
 */
export function selfHealToken(pipelineName: string, drifted: readonly DriftedFunction[]): string {
  const what = drifted.map((d) => `${d.name}=${JSON.stringify(d.actual)}`).sort().join(";");
  return `drift-${createHash("sha256").update(`${pipelineName}\n${what}`).digest("hex").slice(0, 64)}`;
}
