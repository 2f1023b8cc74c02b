/**
 * The pull-request planner: an EventBridge-invoked Lambda function that posts, on a CodeCommit pull
 * request, exactly what the pipeline would do after the merge. A short pipeline of named stages,
 *   event -> settings -> pipeline parameters -> definition file -> desired state -> plan -> comment.
 *
 * - Read-only: it plans with the same `makePlan` as `lambda-gitops plan` and the pipeline, against
 *   this function's own account, and never calls a Lambda write API (its role has none).
 * - One source of truth: the prefix policy, source role and file path come from the pipeline's own
 *   Invoke action `UserParameters` (GetPipeline), parsed by the reconciler's parser.
 * - One comment per pull-request revision: the comment's `clientRequestToken` is derived from the
 *   pull request and both commits, so a redelivered or retried event never posts twice.
 * - Input problems (an event it does not handle, a missing or invalid file, an invalid pipeline
 *   configuration) never throw: they are logged, and reported in the comment when there is a pull
 *   request to comment on. AWS errors do throw, so Lambda's asynchronous retries try again.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  type CodeCommitAdapter,
  CommentTokenConflictError,
  createCodeCommitAdapter,
} from "../aws/codecommit.ts";
import { createPipelineConfigReader, type PipelineConfigReader } from "../aws/pipeline-config.ts";
import type { AwsContext } from "../observe/context.ts";
import { createAwsContext, logPlan, makePlan } from "./context.ts";
import { describeError, renderPath } from "../core/errors.ts";
import { inRegion } from "../input/regional.ts";
import type { LambdaContext } from "./handler.ts";
import { entryLogger, type Logger } from "../core/log.ts";
import {
  accountOfRoleArn,
  type JobParameters,
} from "../input/parameters.ts";
import { redactAwsText } from "../report/redact.ts";
import { type PipelineAction, pinnedDefinition, pipelineActionSchema, readActionParameters, readActionSettings } from "./front.ts";
import { type CommentBody, type PullRequestRevision, renderComment, short } from "../report/pr-comment.ts";

/** Versions the token: change it only to deliberately allow one more comment per revision. */
export const TOKEN_SALT = "lambda-gitops-plan-v1";
export const HANDLED_EVENTS = ["pullRequestCreated", "pullRequestSourceBranchUpdated"] as const;
const DETAIL_TYPE = "CodeCommit Pull Request State Change";

const COMMIT = /^[0-9a-f]{40}$/;
const commit = z.string().regex(COMMIT, "expected a full 40-character commit ID");

/** Only what routing needs, so events this function does not handle are told apart from malformed ones. */
const envelopeSchema = z.object({
  "detail-type": z.string(),
  detail: z.object({ event: z.string() }).loose(),
});

const eventSchema = z.object({
  source: z.literal("aws.codecommit"),
  "detail-type": z.literal(DETAIL_TYPE),
  detail: z
    .object({
      event: z.enum(HANDLED_EVENTS),
      pullRequestId: z.string().regex(/^[0-9]{1,20}$/, "expected the pull request ID as a string of digits"),
      repositoryNames: z.array(z.string().regex(/^[\w.-]{1,100}$/, "expected a repository name")).min(1),
      sourceCommit: commit,
      destinationCommit: commit,
      // CodeCommit sends the strings "True" / "False", not booleans.
      isMerged: z.enum(["True", "False"]),
      pullRequestStatus: z.string().min(1),
      sourceReference: z.string().optional(),
      destinationReference: z.string().optional(),
    })
    .loose(),
  /** The account the event (and the pipeline) belongs to. */
  account: z.string().regex(/^\d{12}$/).optional(),
});

export interface PullRequest extends PullRequestRevision {
  pullRequestId: string;
  repositoryName: string;
  /** The pipeline's account (the EventBridge event's `account`), when the event says. */
  account?: string | undefined;
}

export type ParsedEvent =
  | { kind: "pull-request"; pullRequest: PullRequest }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; issues: string[] };

/** Stage 1: the EventBridge event -> a pull request to plan, an event to ignore, or issues. */
export function parsePullRequestEvent(event: unknown): ParsedEvent {
  const envelope = envelopeSchema.safeParse(event);
  if (envelope.success) {
    const { "detail-type": detailType, detail } = envelope.data;
    if (detailType !== DETAIL_TYPE) return { kind: "ignored", reason: `detail-type "${detailType}"` };
    if (!(HANDLED_EVENTS as readonly string[]).includes(detail.event)) {
      return { kind: "ignored", reason: `event "${detail.event}"` };
    }
  }
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) {
    return {
      kind: "invalid",
      issues: parsed.error.issues.map(
        (i) => `${i.path.length > 0 ? renderPath(i.path) : "event"}: ${i.message}`,
      ),
    };
  }
  const d = parsed.data.detail;
  if (d.isMerged === "True") return { kind: "ignored", reason: "the pull request is merged" };
  if (d.pullRequestStatus !== "Open") return { kind: "ignored", reason: `status "${d.pullRequestStatus}"` };
  // PostCommentForPullRequest refuses identical before/after commits; there is nothing to review.
  if (d.sourceCommit === d.destinationCommit) {
    return { kind: "ignored", reason: "the source and destination commits are the same" };
  }
  return {
    kind: "pull-request",
    pullRequest: {
      pullRequestId: d.pullRequestId,
      repositoryName: d.repositoryNames[0]!,
      sourceCommit: d.sourceCommit,
      destinationCommit: d.destinationCommit,
      sourceReference: d.sourceReference,
      destinationReference: d.destinationReference,
      account: parsed.data.account,
    },
  };
}

/**
 * The comment's idempotency token: sha256 (hex, 64 characters) of the pull request ID, the source
 * and destination commits and TOKEN_SALT. The commits are fixed-length (40 hex), so the plain
 * concatenation is unambiguous.
 */
export function commentToken(pullRequestId: string, sourceCommit: string, destinationCommit: string): string {
  return createHash("sha256")
    .update(pullRequestId + sourceCommit + destinationCommit + TOKEN_SALT)
    .digest("hex");
}

export type Settings = PipelineAction;

/** Stage 2: this function's own settings (environment variables set by infra/pr-plan.yaml). */
export function readSettings(
  env: Record<string, string | undefined>,
): { ok: true; settings: Settings } | { ok: false; problems: string[] } {
  const read = readActionSettings(pipelineActionSchema, env);
  if (!read.ok) return { ok: false, problems: read.problems.map((p) => `\`${p.variable}\`: ${p.message}`) };
  return { ok: true, settings: read.action };
}


export interface PrPlanDeps {
  codecommit: CodeCommitAdapter;
  pipeline: PipelineConfigReader;
  aws: (parameters: JobParameters, runId: string) => AwsContext;
  env: Record<string, string | undefined>;
  logger: Logger;
}

export function defaultDeps(): PrPlanDeps {
  return {
    codecommit: createCodeCommitAdapter(),
    pipeline: createPipelineConfigReader(),
    aws: (parameters, runId) => createAwsContext(parameters, { runId }),
    env: process.env,
    logger: entryLogger(process.env, "info"),
  };
}

/** Lambda entry point (dist/pr-plan.mjs, export `handler`), target of the EventBridge rule. */
export async function handler(event: unknown, context: LambdaContext): Promise<void> {
  const deps = defaultDeps();
  await runPrPlan(event, { ...deps, logger: deps.logger.child({ requestId: context.awsRequestId }) });
}

export type PrPlanResult =
  | { kind: "ignored"; reason: string }
  | { kind: "invalid-event"; issues: string[] }
  | { kind: "commented"; body: CommentBody["kind"]; commentId: string; content: string }
  | { kind: "already-commented"; body: CommentBody["kind"]; content: string };

export async function runPrPlan(event: unknown, deps: PrPlanDeps): Promise<PrPlanResult> {
  // event
  const parsed = parsePullRequestEvent(event);
  if (parsed.kind === "ignored") {
    deps.logger.info("ignored event: not a new or updated open pull request", { reason: parsed.reason });
    return parsed;
  }
  if (parsed.kind === "invalid") {
    deps.logger.error("invalid CodeCommit pull request event; nothing to comment on", {
      issues: parsed.issues,
    });
    return { kind: "invalid-event", issues: parsed.issues };
  }
  const pr = parsed.pullRequest;
  const log = deps.logger.child({
    pullRequestId: pr.pullRequestId,
    repository: pr.repositoryName,
    sourceCommit: pr.sourceCommit,
    destinationCommit: pr.destinationCommit,
  });
  try {
    const { body, sourceAccount } = await planStages(pr, deps, log);
    const keep = [pr.account, sourceAccount].filter((a): a is string => a !== undefined);
    return await post(pr, body, keep, deps, log);
  } catch (error) {
    // AWS errors (and bugs) surface: the invocation fails and Lambda retries it; the token keeps
    // the retry from posting a second comment.
    log.error("pull-request plan failed", { error: describeError(error) });
    throw error;
  }
}

/** The comment's body, and the source account the pipeline's parameters name (kept in the comment). */
async function planStages(
  pr: PullRequest,
  deps: PrPlanDeps,
  log: Logger,
): Promise<{ body: CommentBody; sourceAccount?: string }> {
  let sourceAccount: string | undefined;
  const body = await planBody(pr, deps, log, (account) => {
    sourceAccount = account;
  });
  return { body, sourceAccount };
}

async function planBody(
  pr: PullRequest,
  deps: PrPlanDeps,
  log: Logger,
  nameSource: (account: string | undefined) => void,
): Promise<CommentBody> {
  // settings
  const settings = readSettings(deps.env);
  if (!settings.ok) return { kind: "settings", problems: settings.problems };
  const { pipelineName, actionName } = settings.settings;

  // pipeline parameters: the policy the pipeline enforces, within the stack's pin
  const read = await readActionParameters(deps.pipeline, settings.settings);
  if (!read.ok) {
    return read.stage === "pipeline"
      ? { kind: "pipeline", pipelineName, actionName, message: read.message }
      : { kind: "parameters", pipelineName, actionName, problems: read.problems };
  }
  const { parameters, file } = read;
  const { pin } = settings.settings;
  nameSource(parameters.sourceRoleArn ? accountOfRoleArn(parameters.sourceRoleArn) : undefined);

  // definition file at the source commit (always the configured path, whatever the PR changed)
  const got = await deps.codecommit.getFile(pr.repositoryName, pr.sourceCommit, file);
  if (got.kind === "absent") {
    return {
      kind: "file",
      file,
      pipelineName,
      message: `\`${file}\` does not exist at commit \`${short(pr.sourceCommit)}\``,
    };
  }
  if (got.kind === "error") return { kind: "file", file, pipelineName, message: got.message };

  // definition + policy
  const desired = pinnedDefinition(got.text, file, parameters, pin);
  if (!desired.ok) return { kind: "definition", file, problems: desired.problems, pipelineName };

  // this Region's entries (the other Regions' are planned by their own planners)
  const regional = inRegion(desired.definition, parameters.region ?? pin.region);
  if (!regional.ok) return { kind: "file", file, pipelineName, message: regional.message };

  // observe -> plan (read-only)
  const aws = deps.aws(parameters, `pr-${pr.pullRequestId}-${short(pr.sourceCommit)}`);
  const plan = await makePlan(regional.definition, parameters, aws);
  logPlan(plan, log);
  return { kind: "plan", file, plan, pipelineName };
}

async function post(
  pr: PullRequest,
  body: CommentBody,
  keep: readonly string[],
  deps: PrPlanDeps,
  log: Logger,
): Promise<PrPlanResult> {
  if (body.kind !== "plan") log.warn("not planned; reporting on the pull request", { reason: body.kind });
  // AWS error text quotes ARNs and account ids: keep only the accounts this deployment names.
  const content = redactAwsText(renderComment(pr, body), keep);
  const clientRequestToken = commentToken(pr.pullRequestId, pr.sourceCommit, pr.destinationCommit);
  try {
    const posted = await deps.codecommit.postComment({
      pullRequestId: pr.pullRequestId,
      repositoryName: pr.repositoryName,
      beforeCommitId: pr.destinationCommit,
      afterCommitId: pr.sourceCommit,
      content,
      clientRequestToken,
    });
    log.info("posted plan comment", { commentId: posted.commentId, body: body.kind });
    return { kind: "commented", body: body.kind, commentId: posted.commentId, content };
  } catch (error) {
    if (!(error instanceof CommentTokenConflictError)) throw error;
    // An earlier delivery of this event already commented on this revision, with a different plan
    // (the live state moved since). One comment per revision: keep the first, do not retry.
    log.warn("a plan comment for this revision already exists; not posting another", {
      error: describeError(error),
    });
    return { kind: "already-commented", body: body.kind, content };
  }
}
