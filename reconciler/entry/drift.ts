/**
 * The scheduled drift check: an EventBridge-scheduled Lambda function (dist/drift.mjs, export
 * `handler`, deployed by infra/drift.yaml) that tells whether someone moved LIVE out of band. A
 * short pipeline of named stages, in the style of the pull-request planner (./pr-plan.ts):
 *   settings -> pipeline parameters (GetPipeline) -> the definition the pipeline last deployed (the
 *   input artifact of its most recent run of the Reconcile action: ListPipelineExecutions,
 *   ListActionExecutions, S3 GetObject; ./deployed-definition.ts) -> observe -> plan -> drift per
 *   function (plan/drift.ts) -> did the branch move on (CodeCommit: the file at the branch head,
 *   GetFile; otherwise the newest source revision against the deployed one) -> attribution for the
 *   drifted ones only (CloudTrail LookupEvents, 2 requests/s) -> metric + event (+ optional restart).
 *
 * - Any source: the check needs only the pipeline and action names; the definition comes from the
 *   pipeline's own artifact store (read with this function's role), so GitHub, GitLab and Bitbucket
 *   sources (CodeConnections) work as CodeCommit does. REPOSITORY_NAME and BRANCH_NAME are optional:
 *   with them (CodeCommit only) `fileChange` is told function by function from the file at the head.
 * - "Last deployed" is the last run of the action whatever its status: a failed or abandoned run
 *   may have moved some functions to its file, and one in progress (a rollout) is moving them; what
 *   it has not converged yet reads `file-changed` (pending), never `drifted`.
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
import { type ActionHistory, type ActionRun, createActionHistory } from "../aws/action-executions.ts";
import { type CodeCommitAdapter, createCodeCommitAdapter } from "../aws/codecommit.ts";
import { type AwsContext, createAwsContext } from "../aws/context.ts";
import { createEventPublisher, type EventPublisher } from "../aws/events.ts";
import { createMetricsPublisher, DRIFT_NAMESPACE, type MetricsPublisher } from "../aws/metrics.ts";
import { createPipelineConfigReader, type PipelineConfigReader } from "../aws/pipeline-config.ts";
import { createPipelineStarter, type PipelineStarter } from "../aws/pipeline-start.ts";
import { type ArtifactStore, createArtifactStore, s3Client } from "../aws/s3.ts";
import { formatProblem } from "../core/errors.ts";
import { entryLogger, type Logger } from "../core/log.ts";
import { loadDesired } from "../input/desired.ts";
import { type JobParameters, jobParametersSchema, parseUserParameters } from "../input/parameters.ts";
import { logPlan, scopeOf } from "../apply/reconcile.ts";
import { observeAll } from "../observe/observe.ts";
import { type BranchView, driftOf, type DriftVerdict, fileChangeOf } from "../plan/drift.ts";
import { buildPlan } from "../plan/plan.ts";
import { declaredOf, type Declared } from "../input/definitions.ts";
import { semverOf } from "../observe/live.ts";
import {
  attribute,
  type DeployedRun,
  type DriftDetail,
  type DriftedFunction,
  describeDrift,
  driftedOf,
} from "../report/drift.ts";
import { readDeployedDefinition } from "./deployed-definition.ts";
import type { LambdaContext } from "./handler.ts";

export const DRIFT_SOURCE = "lambda-gitops";
export const DRIFT_DETAIL_TYPE = "lambda-gitops drift";
/** How far back CloudTrail is searched for who changed a drifted function (LookupEvents keeps 90 days). */
export const ATTRIBUTION_LOOKBACK_MS = 7 * 24 * 3600 * 1000;

const NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const settingsSchema = z.object({
  PIPELINE_NAME: z.string({ error: "is not set" }).regex(NAME, "expected a CodePipeline pipeline name"),
  ACTION_NAME: z.string({ error: "is not set" }).regex(NAME, "expected a CodePipeline action name"),
  REPOSITORY_NAME: z.union([z.literal(""), z.string().regex(/^[\w.-]{1,100}$/, "expected a CodeCommit repository name")]).optional(),
  BRANCH_NAME: z.union([z.literal(""), z.string().min(1).max(256)]).optional(),
  DEFINITION_FILE: z.union([z.literal(""), jobParametersSchema.shape.definitionFile.unwrap()]).optional(),
  RECONCILER_ROLE_ARN: z
    .union([z.literal(""), z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "expected an IAM role ARN")])
    .optional(),
  ON_DRIFT: z.enum(["report", "start-pipeline"]).optional(),
  METRIC_NAMESPACE: z.union([z.literal(""), z.string().regex(/^[A-Za-z0-9./#:_-]{1,255}$/)]).optional(),
});

export interface DriftSettings {
  pipelineName: string;
  actionName: string;
  /** CodeCommit only: the branch whose head file tells `fileChange` function by function. */
  branch: { repositoryName: string; branchName: string } | undefined;
  definitionFile: string | undefined;
  reconcilerRoleArn: string | undefined;
  onDrift: "report" | "start-pipeline";
  namespace: string;
}

export function readDriftSettings(
  env: Record<string, string | undefined>,
): { ok: true; settings: DriftSettings } | { ok: false; problems: string[] } {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  }
  const e = parsed.data;
  if (!e.REPOSITORY_NAME !== !e.BRANCH_NAME) {
    const [set, unset] = e.REPOSITORY_NAME ? ["REPOSITORY_NAME", "BRANCH_NAME"] : ["BRANCH_NAME", "REPOSITORY_NAME"];
    return { ok: false, problems: [`${unset}: is not set (${set} is; set both for a CodeCommit source, or neither)`] };
  }
  return {
    ok: true,
    settings: {
      pipelineName: e.PIPELINE_NAME,
      actionName: e.ACTION_NAME,
      branch: e.REPOSITORY_NAME && e.BRANCH_NAME ? { repositoryName: e.REPOSITORY_NAME, branchName: e.BRANCH_NAME } : undefined,
      definitionFile: e.DEFINITION_FILE || undefined,
      reconcilerRoleArn: e.RECONCILER_ROLE_ARN || undefined,
      onDrift: e.ON_DRIFT ?? "report",
      namespace: e.METRIC_NAMESPACE || DRIFT_NAMESPACE,
    },
  };
}

export interface DriftDeps {
  pipeline: PipelineConfigReader;
  /** The pipeline's execution history: its last run of the action, and source revisions. */
  history: ActionHistory;
  /** The pipeline's artifact store, read with this function's own role. */
  artifacts: ArtifactStore;
  /** Only with REPOSITORY_NAME and BRANCH_NAME (a CodeCommit source). */
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
    history: createActionHistory(),
    artifacts: createArtifactStore(s3Client({ region: process.env.AWS_REGION })),
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
  | {
      kind: "not-checked";
      stage: "settings" | "pipeline" | "parameters" | "deployed" | "artifact" | "definition";
      problems: string[];
    }
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

  // pipeline parameters: the policy the pipeline enforces
  const action = await deps.pipeline.readActionUserParameters(settings.pipelineName, settings.actionName);
  if (!action.ok) return notChecked("pipeline", [action.message]);
  const params = parseUserParameters(action.userParameters);
  if (!params.ok) return notChecked("parameters", params.problems.map(formatProblem));
  const parameters = params.parameters;
  const file = settings.definitionFile ?? parameters.definitionFile;

  // the definition the pipeline last deployed (its last run of the action, from the artifact store)
  const deployed = await readDeployedDefinition(
    { history: deps.history, store: deps.artifacts },
    { pipelineName: settings.pipelineName, stageName: action.stageName, actionName: settings.actionName, definitionFile: file },
  );
  if (!deployed.ok) return notChecked(deployed.stage, [deployed.message]);
  const run = deployedRunOf(deployed.run);
  log.info("comparing with the definition the pipeline last deployed", { ...run });
  const desired = loadDesired(deployed.text, file, parameters.allowedPrefixes);
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
  let branch: BranchView | undefined;
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
    // did the branch move on? Read once, and only when something drifted.
    branch ??= await branchViewOf(deps, settings, file, parameters.allowedPrefixes, run, log);
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
    const d = driftedOf(entry.name, verdict, changedBy, fileChangeOf(entry.name, verdict, branch));
    drifted.push(d);
    log.warn("drift", { function: entry.name, drift: describeDrift(d) });
  }

  const detail: DriftDetail = {
    pipeline: settings.pipelineName,
    checkedAt: until.toISOString(),
    deployed: run,
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

function deployedRunOf(run: ActionRun): DeployedRun {
  return {
    pipelineExecutionId: run.pipelineExecutionId,
    actionExecutionId: run.actionExecutionId,
    status: run.status,
    startedAt: run.startTime?.toISOString() ?? null,
    sourceAction: run.source?.actionName ?? null,
    revision: run.source?.revision ?? null,
    latestRevision: run.source?.latestRevision ?? null,
  };
}

/**
 * What the next run would deploy: with a CodeCommit branch, the file at its head, function by
 * function (GetFile; a file that cannot be read or is invalid there falls back to revisions, with a
 * warning: the pipeline will refuse it too); otherwise the newest source revision the pipeline has
 * seen against the deployed one.
 */
async function branchViewOf(
  deps: DriftDeps,
  settings: DriftSettings,
  file: string,
  allowedPrefixes: readonly string[],
  run: DeployedRun,
  log: Logger,
): Promise<BranchView> {
  const revisions: BranchView = { kind: "revision", deployed: run.revision ?? undefined, latest: run.latestRevision ?? undefined };
  if (!settings.branch) return revisions;
  const { repositoryName, branchName } = settings.branch;
  const got = await deps.codecommit.getFile(repositoryName, branchName, file);
  const head = got.kind === "found" ? loadDesired(got.text, file, allowedPrefixes) : undefined;
  if (head?.ok) {
    const declared = new Map<string, Declared>(head.definition.functions.map((f) => [f.name, declaredOf(f)]));
    return { kind: "file", declared };
  }
  log.warn("the file at the branch head could not be read; telling fileChange from revisions", {
    repository: repositoryName,
    branch: branchName,
    problems: got.kind !== "found" ? [got.message] : head ? head.problems.map(formatProblem) : [],
  });
  return revisions;
}

/**
 * StartPipelineExecution's idempotency token (1-128 of [a-zA-Z0-9-]): the same drift (functions and
 * routings) gives the same token, so a retried invocation does not start a second execution.
 */
export function selfHealToken(pipelineName: string, drifted: readonly DriftedFunction[]): string {
  const what = drifted.map((d) => `${d.name}=${JSON.stringify(d.actual)}`).sort().join(";");
  return `drift-${createHash("sha256").update(`${pipelineName}\n${what}`).digest("hex").slice(0, 64)}`;
}
