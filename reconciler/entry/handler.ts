/**
 * The CodePipeline job handler: a short pipeline of named stages,
 *   event (a job id) -> job (GetJobDetails) -> pin -> parameters -> artifact -> definition -> plan
 *   -> apply -> job result.
 * Trust: the invocation event is only a job id. Everything else (UserParameters, input artifact,
 * artifact credentials, continuation token, pipeline) is read from CodePipeline with GetJobDetails,
 * and checked against the stack's pin (input/pin.ts). A job CodePipeline does not know makes no
 * other call at all (no result can be reported to it); a job of another pipeline or action is
 * refused with a failure result, before any Lambda call.
 * Every invocation for a job CodePipeline knows reports exactly one job result, whatever went
 * wrong: throwing instead would make Lambda retry the asynchronous invocation and leave the
 * pipeline waiting. Only a failure to report the result itself surfaces as the invocation's error.
 */
import { z } from "zod";
import {
  createJobReader,
  createJobReporter,
  type JobReader,
  type JobReporter,
  type ReportOutcome,
} from "../aws/codepipeline.ts";
import { checkActionTarget, checkPipeline, type Pin, readPin } from "../input/pin.ts";
import { type Downloader, downloadPackage } from "../aws/download.ts";
import { createExecutionReader, type ExecutionReader } from "../aws/pipeline-execution.ts";
import { checkExecution } from "./stale-job.ts";
import {
  type ArtifactCredentials,
  type ArtifactStore,
  createArtifactStore,
  s3Client,
  stagerFor,
} from "../aws/s3.ts";
import type { Stager } from "../apply/apply.ts";
import type { AwsContext } from "../observe/context.ts";
import { createAwsContext, logPlan, makePlan } from "./context.ts";
import type { Definition } from "../input/definitions.ts";
import { inRegion, leftToNote } from "../input/regional.ts";
import { describeError, formatProblem, type Problem, renderPath } from "../core/errors.ts";
import { entryLogger, type Logger } from "../core/log.ts";
import type { JobParameters } from "../input/parameters.ts";
import { type PinnedParameters, pinnedDefinition, pinnedParameters } from "./front.ts";
import { readArtifactFile } from "./deployed-definition.ts";
import { applyDefinition } from "../apply/reconcile.ts";
import { pruneAfterApply } from "../apply/prune.ts";
import { pruneJobSummary } from "../report/prune.ts";
import { MAX_FAILURE_MESSAGE, MAX_SUMMARY } from "../report/pipeline.ts";
import { type Continuation, parseContinuation, type RoundOutcome, roundOutcome } from "../report/round.ts";
import { truncate } from "../report/text.ts";
import type { Sleep } from "../aws/retry.ts";
import type { WaitOptions } from "../aws/wait.ts";

/** Kept back for reporting the job result when a step checks the time left. */
export const REPORT_RESERVE_MS = 15_000;
/** Stop starting new functions when less than this remains before the Lambda deadline. */
export const DEADLINE_RESERVE_MS = 120_000;

export interface LambdaContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

const artifactSchema = z.object({
  name: z.string().optional(),
  location: z.object({
    type: z.literal("S3"),
    s3Location: z.object({ bucketName: z.string().min(3), objectKey: z.string().min(1) }),
  }),
});

/** GetJobDetails' `jobDetails.data` (the event's copy is never read). */
const jobDataSchema = z.object({
  actionConfiguration: z.object({
    configuration: z
      .object({ UserParameters: z.string().optional(), FunctionName: z.string().optional() })
      .loose(),
  }),
  pipelineContext: z
    .object({
      pipelineName: z.string().optional(),
      pipelineExecutionId: z.string().optional(),
      stage: z.object({ name: z.string().optional() }).loose().optional(),
      action: z.object({ name: z.string().optional() }).loose().optional(),
    })
    .loose()
    .optional(),
  inputArtifacts: z
    .array(artifactSchema)
    .min(1, "the action has no input artifact: give it the source output"),
  artifactCredentials: z.object({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    sessionToken: z.string().optional(),
  }),
  continuationToken: z.string().max(2048).optional(),
});
type JobData = z.infer<typeof jobDataSchema>;

export interface HandlerDeps {
  reporter: JobReporter;
  /** Reads the job from CodePipeline (GetJobDetails): the only source of the job's settings. */
  jobs: JobReader;
  /** Reads the status of the job's pipeline execution (GetPipelineExecution): stale jobs are refused. */
  executions: ExecutionReader;
  /** The stack's pin (PIPELINE_NAMES, ALLOWED_PREFIXES, ...); default process.env. */
  env?: Record<string, string | undefined>;
  /**
   * Reads the input artifact, in the pipeline's Region (`region`: AWS_REGION, the Region the
   * reconciler runs in and CodePipeline invoked it from; undefined: the SDK's chain), never in the
   * job's `region` parameter.
   */
  artifacts: (credentials: ArtifactCredentials, region: string | undefined) => ArtifactStore;
  aws: (parameters: JobParameters, runId: string) => AwsContext;
  stager: (parameters: JobParameters) => Stager | undefined;
  download: Downloader;
  logger: Logger;
  sleep?: Sleep;
  wait?: WaitOptions;
  deadlineReserveMs?: number;
}

export function defaultDeps(): HandlerDeps {
  return {
    reporter: createJobReporter(),
    jobs: createJobReader(),
    executions: createExecutionReader(),
    artifacts: (credentials, region) => createArtifactStore(s3Client({ credentials, region })),
    aws: (parameters, runId) => createAwsContext(parameters, { runId }),
    stager: stagerFor,
    download: downloadPackage,
    logger: entryLogger(process.env, "info"),
  };
}

/** Lambda entry point (dist/handler.mjs, export `handler`). */
export async function handler(event: unknown, context: LambdaContext): Promise<void> {
  await runJob(event, context, defaultDeps());
}

type Outcome =
  | { kind: "success"; summary: string; outputVariables?: Record<string, string>; continuationToken?: string }
  | { kind: "failure"; message: string };

export async function runJob(event: unknown, context: LambdaContext, deps: HandlerDeps): Promise<void> {
  const jobId = jobIdOf(event);
  const log = deps.logger.child({ jobId: jobId ?? null, requestId: context.awsRequestId });
  if (jobId === undefined) {
    // Without a job id there is no job to report to; say so loudly and do not throw (no retries).
    log.error("invocation without a CodePipeline job id; nothing to report to");
    return;
  }
  let outcome: Outcome;
  try {
    const admitted = await admit(jobId, deps, log);
    if (admitted.kind === "unknown") {
      // Nothing to report to: CodePipeline refuses results for jobs it does not know. Not thrown
      // either, so Lambda does not retry a forged invocation.
      log.error("refused: not a job CodePipeline knows; no call made, no result reported", {
        refused: true,
        reason: admitted.reason,
      });
      return;
    }
    if (admitted.kind === "refused") {
      log.error("refused: the job is not one this reconciler serves; no Lambda call made", {
        refused: true,
        reason: admitted.message,
      });
      outcome = fail(`lambda-gitops refused this job: ${admitted.message}`);
    } else if (admitted.kind === "invalid") {
      outcome = fail(admitted.message);
    } else {
      // Before anything else: a job of an execution no longer in progress changes nothing.
      const fresh = await checkExecution(admitted.data.pipelineContext, deps.executions, log);
      outcome =
        fresh.kind === "stale"
          ? fail(`lambda-gitops refused this job: ${fresh.message}`)
          : await runStages(admitted.data, admitted.pin, jobId, context, deps, log);
    }
  } catch (error) {
    log.error("unexpected error", { error: describeError(error) });
    outcome = { kind: "failure", message: `lambda-gitops failed unexpectedly: ${describeError(error)}` };
  }
  const externalExecutionId = context.awsRequestId;
  if (outcome.kind === "success") {
    log.info("reporting success", {
      summary: outcome.summary,
      continuation: outcome.continuationToken !== undefined,
    });
    const reported = await deps.reporter.success(jobId, {
      summary: outcome.summary,
      externalExecutionId,
      outputVariables: outcome.outputVariables,
      continuationToken: outcome.continuationToken,
    });
    noteFinished(reported, log);
  } else {
    log.warn("reporting failure", { reason: outcome.message });
    const reported = await deps.reporter.failure(jobId, {
      message: truncate(outcome.message, MAX_FAILURE_MESSAGE),
      externalExecutionId,
    });
    noteFinished(reported, log);
  }
}

function noteFinished(outcome: ReportOutcome, log: Logger): void {
  if (outcome === "reported-without-variables") {
    log.warn("CodePipeline refused the output variables; the success was reported without them");
  }
  if (outcome === "already-finished") {
    log.warn(
      "CodePipeline says the job is already finished (a retried result call whose first answer was lost); not failing the invocation",
    );
  }
}

function jobIdOf(event: unknown): string | undefined {
  const id = (event as { "CodePipeline.job"?: { id?: unknown } } | null | undefined)?.["CodePipeline.job"]
    ?.id;
  return typeof id === "string" && id.length > 0 && id.length <= 128 ? id : undefined;
}

const fail = (message: string): Outcome => ({ kind: "failure", message });
const problemsText = (lead: string, problems: readonly Problem[]) =>
  [lead, ...problems.map(formatProblem)].join("\n");

type Admission =
  | { kind: "unknown"; reason: string }
  | { kind: "refused"; message: string }
  | { kind: "invalid"; message: string }
  | { kind: "admitted"; data: JobData; pin: Pin };

/**
 * Stage: job id -> the job as CodePipeline reports it, checked against the stack's pin. Makes no
 * Lambda call; an invalid pin fails closed (the stack is misconfigured).
 */
async function admit(jobId: string, deps: HandlerDeps, log: Logger): Promise<Admission> {
  const read = await deps.jobs.getJob(jobId);
  if (read.kind === "unknown") return read;
  const pinned = readPin(deps.env ?? process.env);
  if (!pinned.ok) {
    return { kind: "refused", message: `the stack's settings are invalid:\n${pinned.problems.join("\n")}` };
  }
  const pin = pinned.pin;
  const parsed = jobDataSchema.safeParse(read.job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `jobDetails.data.${renderPath(i.path)}: ${i.message}`);
    return { kind: "invalid", message: `invalid CodePipeline job (GetJobDetails):\n${issues.join("\n")}` };
  }
  const data = parsed.data;
  const pipelineName = data.pipelineContext?.pipelineName;
  log.info("job read from CodePipeline", {
    pipeline: pipelineName ?? null,
    stage: data.pipelineContext?.stage?.name ?? null,
    action: data.pipelineContext?.action?.name ?? null,
    pipelineExecutionId: data.pipelineContext?.pipelineExecutionId ?? null,
  });
  const checks = [
    checkPipeline(pin, pipelineName),
    checkActionTarget(pin, data.actionConfiguration.configuration.FunctionName),
  ];
  const refused = checks.find((check) => !check.ok);
  if (refused && !refused.ok) return { kind: "refused", message: refused.reason };
  return { kind: "admitted", data, pin };
}

async function runStages(
  data: JobData,
  pin: Pin,
  jobId: string,
  context: LambdaContext,
  deps: HandlerDeps,
  log: Logger,
): Promise<Outcome> {
  // parameters, within the stack's pin
  const pinned = pinnedParameters(data.actionConfiguration.configuration.UserParameters, pin);
  if (!pinned.ok) return fail(refusalText(pinned));
  const parameters = pinned.parameters;

  // continuation
  const continuation = parseContinuation(data.continuationToken, jobId);
  if (!continuation.ok) return fail(continuation.message);
  if (continuation.token.round > parameters.maxRounds) {
    return fail(
      `gave up after ${parameters.maxRounds} rounds of continuation without converging (maxRounds)`,
    );
  }

  // artifact -> definition text
  const artifact = data.inputArtifacts[0]!;
  const { bucketName, objectKey } = artifact.location.s3Location;
  const store = deps.artifacts(data.artifactCredentials, pin.region);
  const read = await readArtifactFile(store, { bucket: bucketName, key: objectKey }, parameters.definitionFile);
  if (!read.ok) return fail(read.message);
  const text = read.text;

  // definition + policy (nothing has touched AWS besides reading the artifact)
  const desired = pinnedDefinition(text, parameters.definitionFile, parameters, pin);
  if (!desired.ok)
    return fail(
      problemsText(`${parameters.definitionFile} is invalid; nothing was changed:`, desired.problems),
    );

  // only this Region's functions; the others are their own Region's reconciler's
  const regional = inRegion(desired.definition, parameters.region ?? pin.region);
  if (!regional.ok) return fail(regional.message);
  const outcome = await reconcileRegion(regional.definition, parameters, jobId, continuation, context, deps, log);
  const note = leftToNote(regional.leftTo);
  if (note === "" || outcome.kind !== "success") return outcome;
  return { ...outcome, summary: truncate(`${note} ${outcome.summary}`, MAX_SUMMARY) };
}

async function reconcileRegion(
  definition: Definition,
  parameters: JobParameters,
  jobId: string,
  continuation: { token: Continuation; rolloutHandover: boolean },
  context: LambdaContext,
  deps: HandlerDeps,
  log: Logger,
): Promise<Outcome> {
  // observe -> plan -> apply
  const aws = deps.aws(parameters, jobId);
  const plan = await makePlan(definition, parameters, aws);
  logPlan(plan, log);
  const reserve = deps.deadlineReserveMs ?? DEADLINE_RESERVE_MS;
  const report = await applyDefinition(definition, plan, parameters, aws, {
    download: deps.download,
    logger: log,
    stager: deps.stager(parameters),
    canStart: () => context.getRemainingTimeInMillis() > reserve,
    // Waits and downloads check the time too, keeping enough to report the result.
    timeLeftMs: () => context.getRemainingTimeInMillis() - REPORT_RESERVE_MS,
    sleep: deps.sleep,
    wait: deps.wait,
    // Rollouts wait between shifts while watching alarms, and hand over before the deadline.
    // After a rollout hand-over every function had started, so this round only continues rollouts:
    // if LIVE no longer shows one (someone reverted it meanwhile), the job stops rather than restart it.
    rollouts: {
      deadline: () => Date.now() + context.getRemainingTimeInMillis() - reserve,
      mayStart: !continuation.rolloutHandover,
    },
  });
  const outcome = jobOutcomeOf(roundOutcome(report, continuation.token, parameters.maxRounds));
  if (outcome.kind !== "success" || outcome.continuationToken || !parameters.prune) return outcome;
  const names = definition.functions.map((f) => f.name);
  const pruned = await pruneAfterApply(report, names, { lambda: aws.target, liveAlias: parameters.liveAlias, keep: parameters.prune.keep, concurrency: parameters.concurrency, logger: log, timeLeftMs: () => context.getRemainingTimeInMillis() - REPORT_RESERVE_MS });
  return pruned ? { ...outcome, summary: truncate(`${outcome.summary} ${pruneJobSummary(pruned)}`, MAX_SUMMARY) } : outcome;
}

/** The round's outcome (report/round.ts) as the job result this invocation reports. */
function jobOutcomeOf(round: RoundOutcome): Outcome {
  switch (round.kind) {
    case "continue":
      return { kind: "success", summary: round.summary, continuationToken: JSON.stringify(round.token) };
    case "converged":
      return { kind: "success", summary: round.summary, outputVariables: round.outputVariables };
    case "failed":
      return fail(round.message);
  }
}

/** The job's failure message for parameters the stack's pin refused. */
function refusalText(refusal: Extract<PinnedParameters, { ok: false }>): string {
  switch (refusal.refused) {
    case "invalid":
      return problemsText("invalid UserParameters:", refusal.problems);
    case "widened":
      return problemsText("UserParameters widen the stack's prefixes:", refusal.problems);
    case "region":
      return `invalid UserParameters: ${refusal.problems.map((p) => p.message).join("; ")}`;
  }
}
