/**
 * The pull-request planner (reconciler/pr-plan.ts) and its adapters: event parsing, the comment
 * token, settings, the GetPipeline action lookup, the CodeCommit adapter and the comment itself
 * (golden files under test/fixtures/pr-plan/; regenerate with UPDATE_GOLDEN=1 and review the diff).
 * CodeCommit and CodePipeline are mocked at the SDK boundary with aws-sdk-client-mock; Lambda is
 * an in-memory read-only fake of the adapter interface.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CodeCommitClient,
  CodeCommitServiceException,
  FileDoesNotExistException,
  FileTooLargeException,
  GetFileCommand,
  GetCommentsForPullRequestCommand,
  IdempotencyParameterMismatchException,
  PathDoesNotExistException,
  PostCommentForPullRequestCommand,
} from "@aws-sdk/client-codecommit";
import {
  CodePipelineClient,
  CodePipelineServiceException,
  GetPipelineCommand,
  PipelineNotFoundException,
  type StageDeclaration,
} from "@aws-sdk/client-codepipeline";
import { LambdaServiceException } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { pullRequestEvent } from "../../support/events.ts";
import { expect } from "chai";
import {
  CommentTokenConflictError,
  createCodeCommitAdapter,
  GETFILE_MAX_BYTES,
} from "../../../reconciler/aws/codecommit.ts";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import type { AliasState, FunctionState } from "../../../reconciler/observe/state.ts";
import { createPipelineConfigReader, findInvokeAction } from "../../../reconciler/aws/pipeline-config.ts";
import type { AwsContext } from "../../../reconciler/observe/context.ts";
import { renderPlan } from "../../../reconciler/entry/cli.ts";
import { AwsCallError } from "../../../reconciler/core/errors.ts";
import { createLogger, type Logger } from "../../../reconciler/core/log.ts";
import type { JobParameters } from "../../../reconciler/input/parameters.ts";
import { OPEN_PIN } from "../../../reconciler/input/pin.ts";
import type { Plan } from "../../../reconciler/plan/plan.ts";
import {
  commentToken,
  type PrPlanDeps,
  type PullRequest,
  parsePullRequestEvent,
  readSettings,
  runPrPlan,
  TOKEN_SALT,
} from "../../../reconciler/entry/pr-plan.ts";
import { contextLine, renderComment } from "../../../reconciler/report/pr-comment.ts";
import { MAX_COMMENT_LENGTH, renderPlanMarkdown } from "../../../reconciler/report/report.ts";
import { alias, fnState } from "../../support/fixtures.ts";

// ---------------------------------------------------------------------------------------------
// Fixtures

const GOLDEN_DIR = fileURLToPath(new URL("../../fixtures/pr-plan/", import.meta.url));

/** Compare with test/fixtures/pr-plan/<name>; UPDATE_GOLDEN=1 rewrites it (review the diff!). */
function golden(name: string, actual: string): void {
  const path = `${GOLDEN_DIR}${name}`;
  const text = `${actual}\n`;
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path))
    throw new Error(`missing golden file ${path}: run with UPDATE_GOLDEN=1 and review it`);
  expect(text, `golden ${name} (UPDATE_GOLDEN=1 regenerates)`).to.equal(readFileSync(path, "utf8"));
}

const REGION = "eu-west-1";
const TARGET = "222222222222";
const SOURCE = "111111111111";
const SOURCE_ROLE = `arn:aws:iam::${SOURCE}:role/lambda-gitops-source`;
const REPO = "lambda-definitions";
const PIPELINE = "lambda-gitops";
const ACTION = "Reconcile";
const SOURCE_COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const DESTINATION_COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567";
const PR_ID = "42";

type Json = Record<string, unknown>;

/** A pull-request event for this file's pull request; `detail` and `envelope` replace fields. */
function prEvent(detail: Json = {}, envelope: Json = {}): Json {
  return pullRequestEvent({
    account: TARGET,
    region: REGION,
    repository: REPO,
    envelope,
    detail: {
      pullRequestId: PR_ID,
      sourceCommit: SOURCE_COMMIT,
      destinationCommit: DESTINATION_COMMIT,
      ...detail,
    },
  });
}

const PR: PullRequest = {
  pullRequestId: PR_ID,
  repositoryName: REPO,
  sourceCommit: SOURCE_COMMIT,
  destinationCommit: DESTINATION_COMMIT,
  sourceReference: "refs/heads/promote-orders",
  destinationReference: "refs/heads/main",
  account: TARGET,
};

const USER_PARAMETERS = JSON.stringify({
  allowedPrefixes: ["team-a-"],
  sourceRoleArn: SOURCE_ROLE,
  liveAlias: "LIVE",
  definitionFile: "lambdas.json",
  concurrency: 4,
});

/** The stages of infra/pipeline.yaml, as GetPipeline returns them. */
/** `null`: the action has no UserParameters. */
function pipelineStages(userParameters: string | null = USER_PARAMETERS): StageDeclaration[] {
  return [
    {
      name: "Source",
      actions: [
        {
          name: "Source",
          actionTypeId: { category: "Source", owner: "AWS", provider: "CodeCommit", version: "1" },
          configuration: { RepositoryName: REPO, BranchName: "main" },
        },
      ],
    },
    {
      name: "Reconcile",
      actions: [
        {
          name: ACTION,
          actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
          configuration: {
            FunctionName: "lambda-gitops-reconciler",
            ...(userParameters === null ? {} : { UserParameters: userParameters }),
          },
        },
      ],
    },
  ];
}

const DEFINITION = `${JSON.stringify(
  {
    lambdas: [
      { name: "team-a-orders", version: "1.1.0" },
      { name: "team-a-api", version: "1.1.1" },
      { name: "team-a-billing", version: "2.0.0" },
      { name: "team-a-search", version: "4.0.0", canary: { version: "4.1.0", weight: 10 } },
      { name: "team-a-reports", version: "1.5.0" },
      { name: "team-a-ghost", version: "1.0.0" },
    ],
  },
  null,
  2,
)}\n`;

const PROMOTED_SHA = "pJ3nV0yYc1pQGq7mE0x8o5m2mX3b2ZkqW3h0oQ1fK7s=";

interface FakeFunction {
  aliases: AliasState[];
  /** GetFunction by qualifier ("" = $LATEST); version aliases resolve through `aliases`. */
  versions: Record<string, FunctionState>;
}

/** An in-memory, read-only Lambda account: any write fails the test. */
function fakeAccount(functions: Record<string, FakeFunction>, reads: string[] = []): LambdaWriter {
  const refuse = (operation: string) => () =>
    Promise.reject(new Error(`${operation} called: pr-plan must not write`));
  return {
    listEventSourceMappings: refuse("ListEventSourceMappings"),
    listProvisionedConcurrency: refuse("ListProvisionedConcurrencyConfigs"),
    async listAliases(name) {
      reads.push(`ListAliases ${name}`);
      return functions[name]?.aliases.map((a) => ({ ...a }));
    },
    async getFunction(name, qualifier) {
      reads.push(`GetFunction ${name}${qualifier ? `:${qualifier}` : ""}`);
      const fn = functions[name];
      if (!fn) return undefined;
      const version = fn.aliases.find((a) => a.name === qualifier)?.functionVersion ?? qualifier ?? "";
      return fn.versions[version];
    },
    async getAlias(name, aliasName) {
      reads.push(`GetAlias ${name}:${aliasName}`);
      return functions[name]?.aliases.find((a) => a.name === aliasName);
    },
    async getCodeSigning() {
      return undefined;
    },
    async getProvisionedConcurrency() {
      return undefined;
    },
    updateFunctionCode: refuse("UpdateFunctionCode"),
    updateFunctionConfiguration: refuse("UpdateFunctionConfiguration"),
    publishVersion: refuse("PublishVersion"),
    createAlias: refuse("CreateAlias"),
    updateAlias: refuse("UpdateAlias"),
    async listVersions(name) {
      reads.push(`ListVersionsByFunction ${name}`);
      return [];
    },
    deleteAlias: refuse("DeleteAlias"),
    deleteVersion: refuse("DeleteFunction"),
    invoke: refuse("Invoke"),
  };
}

/** Production: one function per kind of decision (see DEFINITION). */
function targetAccount(reads?: string[]): LambdaWriter {
  const latest = fnState({ functionVersion: "$LATEST" });
  return fakeAccount(
    {
      "team-a-api": { aliases: [alias("1-1-1", "3"), alias("LIVE", "3")], versions: { "": latest } },
      "team-a-billing": {
        aliases: [alias("2-0-0", "4"), alias("2-1-0", "5"), alias("LIVE", "5")],
        versions: { "": latest },
      },
      "team-a-orders": { aliases: [alias("1-0-0", "1"), alias("LIVE", "1")], versions: { "": latest } },
      "team-a-reports": { aliases: [alias("1-0-0", "1"), alias("LIVE", "1")], versions: { "": latest } },
      "team-a-search": {
        aliases: [alias("4-0-0", "2"), alias("4-1-0", "3"), alias("LIVE", "2")],
        versions: {
          "": latest,
          "2": fnState({ functionVersion: "2" }),
          "3": fnState({ functionVersion: "3" }),
        },
      },
    },
    reads,
  );
}

/** Staging: has orders 1.1.0 (published as v7); nothing else the file asks for. */
function sourceAccount(reads?: string[]): LambdaWriter {
  return fakeAccount(
    {
      "team-a-orders": {
        aliases: [alias("1-1-0", "7")],
        versions: { "7": fnState({ functionVersion: "7", codeSha256: PROMOTED_SHA, codeSize: 2048 }) },
      },
    },
    reads,
  );
}

function fakeAws(parameters: JobParameters, targetReads?: string[], sourceReads?: string[]): AwsContext {
  return {
    target: targetAccount(targetReads),
    source: parameters.sourceRoleArn ? { reader: sourceAccount(sourceReads), accountId: SOURCE } : undefined,
  };
}

const ENV = { PIPELINE_NAME: PIPELINE, ACTION_NAME: ACTION };

function recordingLogger(lines: Json[]): Logger {
  return createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line) as Json) });
}

// ---------------------------------------------------------------------------------------------

describe("pr-plan: event parsing", () => {
  it('reads a pullRequestCreated event (isMerged is the string "False")', () => {
    expect(parsePullRequestEvent(prEvent())).to.deep.equal({ kind: "pull-request", pullRequest: PR });
  });

  it("reads a pullRequestSourceBranchUpdated event the same way", () => {
    const parsed = parsePullRequestEvent(prEvent({ event: "pullRequestSourceBranchUpdated" }));
    expect(parsed).to.deep.equal({ kind: "pull-request", pullRequest: PR });
  });

  it("ignores the other pull-request events and other detail-types", () => {
    for (const event of [
      "pullRequestStatusChanged",
      "pullRequestMergeStatusUpdated",
      "commentOnPullRequestCreated",
    ]) {
      expect(parsePullRequestEvent(prEvent({ event })), event).to.deep.include({ kind: "ignored" });
    }
    const comment = prEvent({}, { "detail-type": "CodeCommit Comment on Pull Request" });
    expect(parsePullRequestEvent(comment)).to.deep.include({ kind: "ignored" });
    const push = prEvent(
      { event: "referenceUpdated" },
      { "detail-type": "CodeCommit Repository State Change" },
    );
    expect(parsePullRequestEvent(push)).to.deep.include({ kind: "ignored" });
  });

  it('ignores merged ("True") and closed pull requests', () => {
    expect(parsePullRequestEvent(prEvent({ isMerged: "True", pullRequestStatus: "Closed" }))).to.deep.equal({
      kind: "ignored",
      reason: "the pull request is merged",
    });
    expect(parsePullRequestEvent(prEvent({ pullRequestStatus: "Closed" }))).to.deep.equal({
      kind: "ignored",
      reason: 'status "Closed"',
    });
  });

  it("ignores a revision whose source and destination commits are the same (nothing to comment on)", () => {
    const same = parsePullRequestEvent(prEvent({ sourceCommit: DESTINATION_COMMIT }));
    expect(same).to.deep.include({ kind: "ignored" });
  });

  it("rejects malformed events, naming each field", () => {
    const cases: [Json | unknown, RegExp][] = [
      [prEvent({ isMerged: false }), /detail\.isMerged/],
      [prEvent({ isMerged: "false" }), /detail\.isMerged/],
      [prEvent({ repositoryNames: REPO }), /detail\.repositoryNames/],
      [prEvent({ repositoryNames: [] }), /detail\.repositoryNames/],
      [prEvent({ pullRequestId: 42 }), /detail\.pullRequestId/],
      [prEvent({ sourceCommit: "abc123" }), /detail\.sourceCommit: expected a full 40-character commit ID/],
      [prEvent({ destinationCommit: undefined }), /detail\.destinationCommit/],
      [prEvent({}, { source: "aws.events" }), /^source/],
      [prEvent({}, { detail: undefined }), /^detail/],
      [null, /^event: .*expected object/],
      ["pullRequestCreated", /^event: .*expected object/],
    ];
    for (const [event, issue] of cases) {
      const parsed = parsePullRequestEvent(event);
      expect(parsed.kind, JSON.stringify(event)).to.equal("invalid");
      if (parsed.kind === "invalid") expect(parsed.issues.join("\n"), JSON.stringify(event)).to.match(issue);
    }
  });
});

describe("pr-plan: comment token", () => {
  it("is the sha256 (hex) of pull request ID, source commit, destination commit and the salt", () => {
    const token = commentToken(PR_ID, SOURCE_COMMIT, DESTINATION_COMMIT);
    const expected = createHash("sha256")
      .update(`${PR_ID}${SOURCE_COMMIT}${DESTINATION_COMMIT}lambda-gitops-plan-v1`)
      .digest("hex");
    expect(TOKEN_SALT).to.equal("lambda-gitops-plan-v1");
    expect(token)
      .to.equal(expected)
      .and.match(/^[0-9a-f]{64}$/);
  });

  it("is the same for the same inputs and differs when any input differs", () => {
    const token = commentToken(PR_ID, SOURCE_COMMIT, DESTINATION_COMMIT);
    expect(commentToken(PR_ID, SOURCE_COMMIT, DESTINATION_COMMIT)).to.equal(token);
    const other = "ffffffffffffffffffffffffffffffffffffffff";
    expect(commentToken(PR_ID, other, DESTINATION_COMMIT)).to.not.equal(token);
    expect(commentToken(PR_ID, SOURCE_COMMIT, other)).to.not.equal(token);
    expect(commentToken("43", SOURCE_COMMIT, DESTINATION_COMMIT)).to.not.equal(token);
    // Swapping the commits is a different revision too.
    expect(commentToken(PR_ID, DESTINATION_COMMIT, SOURCE_COMMIT)).to.not.equal(token);
  });
});

describe("pr-plan: settings", () => {
  it("needs PIPELINE_NAME and ACTION_NAME; DEFINITION_FILE is an optional override", () => {
    expect(readSettings(ENV)).to.deep.equal({
      ok: true,
      settings: { pipelineName: PIPELINE, actionName: ACTION, definitionFile: undefined, pin: OPEN_PIN },
    });
    expect(readSettings({ ...ENV, DEFINITION_FILE: "" })).to.deep.include({ ok: true });
    expect(readSettings({ ...ENV, DEFINITION_FILE: "prod/lambdas.yaml" })).to.deep.equal({
      ok: true,
      settings: { pipelineName: PIPELINE, actionName: ACTION, definitionFile: "prod/lambdas.yaml", pin: OPEN_PIN },
    });
    const missing = readSettings({});
    expect(missing.ok).to.equal(false);
    if (!missing.ok) {
      expect(missing.problems).to.deep.equal(["`PIPELINE_NAME`: is not set", "`ACTION_NAME`: is not set"]);
    }
    for (const bad of ["../lambdas.json", "/etc/lambdas.json", "a\\b.json"]) {
      expect(readSettings({ ...ENV, DEFINITION_FILE: bad }), bad).to.deep.include({ ok: false });
    }
    expect(readSettings({ ...ENV, PIPELINE_NAME: "has space" })).to.deep.include({ ok: false });
  });

  it("reads the stack's pin (ALLOWED_PREFIXES, its own name) and fails closed on an invalid one", () => {
    const pinned = readSettings({ ...ENV, ALLOWED_PREFIXES: "team-a-", AWS_LAMBDA_FUNCTION_NAME: "team-a-plan" });
    expect(pinned.ok && pinned.settings.pin).to.deep.equal({
      pipelineNames: undefined,
      allowedPrefixes: ["team-a-"],
      protectedFunctions: ["team-a-plan"],
      self: "team-a-plan",
      region: undefined,
    });
    const bad = readSettings({ ...ENV, ALLOWED_PREFIXES: "team-a" });
    expect(bad.ok).to.equal(false);
    if (!bad.ok) expect(bad.problems.join("\n")).to.match(/^`ALLOWED_PREFIXES`: "team-a" is not an allowed prefix/);
  });
});

describe("pr-plan: GetPipeline action lookup (adapters/pipeline-config.ts)", () => {
  const client = new CodePipelineClient({
    region: REGION,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const codePipeline = mockClient(client);
  const reader = createPipelineConfigReader(client);
  beforeEach(() => codePipeline.reset());

  it("returns the UserParameters of the Invoke action with that name, in whichever stage it is", async () => {
    const stages: StageDeclaration[] = [
      ...pipelineStages(),
      {
        name: "Approve",
        actions: [
          {
            name: "Reconcile",
            actionTypeId: { category: "Approval", owner: "AWS", provider: "Manual", version: "1" },
          },
        ],
      },
    ];
    codePipeline.on(GetPipelineCommand).resolves({ pipeline: { name: PIPELINE, roleArn: "r", stages } });
    // A same-named non-Invoke action elsewhere does not make it ambiguous.
    expect(await reader.readActionUserParameters(PIPELINE, ACTION)).to.deep.equal({
      ok: true,
      userParameters: USER_PARAMETERS,
      stageName: "Reconcile",
    });
    expect(codePipeline.commandCalls(GetPipelineCommand)[0]!.args[0].input).to.deep.equal({ name: PIPELINE });
  });

  it("finds the action in a later stage among several actions", () => {
    const stages: StageDeclaration[] = [
      { name: "Source", actions: [] },
      {
        name: "Build",
        actions: [
          {
            name: "Lint",
            actionTypeId: { category: "Build", owner: "AWS", provider: "CodeBuild", version: "1" },
          },
        ],
      },
      {
        name: "Deploy",
        actions: [
          {
            name: "Other",
            actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
          },
          {
            name: "Apply",
            actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
            configuration: { UserParameters: "{}" },
          },
        ],
      },
    ];
    expect(findInvokeAction(PIPELINE, "Apply", stages)).to.deep.equal({
      ok: true,
      userParameters: "{}",
      stageName: "Deploy",
    });
  });

  it("reports a missing action, naming the Invoke actions there are", () => {
    expect(findInvokeAction(PIPELINE, "Apply", pipelineStages())).to.deep.equal({
      ok: false,
      message: 'pipeline "lambda-gitops" has no action named "Apply" (Invoke actions: "Reconcile/Reconcile")',
    });
  });

  it("reports an action that is not a Lambda Invoke action, and an ambiguous name", () => {
    expect(findInvokeAction(PIPELINE, "Source", pipelineStages())).to.deep.equal({
      ok: false,
      message: 'action "Source" of pipeline "lambda-gitops" is not a Lambda Invoke action',
    });
    const twice = [...pipelineStages(), { ...pipelineStages()[1]!, name: "Reconcile2" }];
    const result = findInvokeAction(PIPELINE, ACTION, twice);
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.message).to.match(/has 2 Lambda Invoke actions named "Reconcile"/);
  });

  it("returns undefined UserParameters when the action has none (the parser then reports it)", async () => {
    codePipeline
      .on(GetPipelineCommand)
      .resolves({ pipeline: { name: PIPELINE, roleArn: "r", stages: pipelineStages(null) } });
    expect(await reader.readActionUserParameters(PIPELINE, ACTION)).to.deep.equal({
      ok: true,
      userParameters: undefined,
      stageName: "Reconcile",
    });
  });

  it("reports a missing pipeline as a value and throws any other error", async () => {
    codePipeline
      .on(GetPipelineCommand)
      .rejectsOnce(new PipelineNotFoundException({ message: "no such pipeline", $metadata: {} }))
      .rejectsOnce(
        new CodePipelineServiceException({
          name: "AccessDeniedException",
          message: "not authorized to perform codepipeline:GetPipeline",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        }),
      );
    expect(await reader.readActionUserParameters(PIPELINE, ACTION)).to.deep.equal({
      ok: false,
      message: 'pipeline "lambda-gitops" does not exist in this account and Region',
    });
    let thrown: unknown;
    try {
      await reader.readActionUserParameters(PIPELINE, ACTION);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(AwsCallError);
    expect((thrown as AwsCallError).message).to.match(/^GetPipeline failed: AccessDeniedException/);
  });
});

describe("pr-plan: CodeCommit adapter (adapters/codecommit.ts)", () => {
  const client = new CodeCommitClient({
    region: REGION,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const codeCommit = mockClient(client);
  const adapter = createCodeCommitAdapter(client);
  beforeEach(() => codeCommit.reset());

  it("GetFile: returns the decoded text of the file at that commit", async () => {
    codeCommit.on(GetFileCommand).resolves({
      commitId: SOURCE_COMMIT,
      blobId: "b",
      filePath: "lambdas.json",
      fileMode: "NORMAL",
      fileSize: 7,
      fileContent: new TextEncoder().encode('{"é":1}'),
    });
    expect(await adapter.getFile(REPO, SOURCE_COMMIT, "lambdas.json")).to.deep.equal({
      kind: "found",
      text: '{"é":1}',
      bytes: 8,
    });
    expect(codeCommit.commandCalls(GetFileCommand)[0]!.args[0].input).to.deep.equal({
      repositoryName: REPO,
      commitSpecifier: SOURCE_COMMIT,
      filePath: "lambdas.json",
    });
  });

  it("GetFile: a missing file or path is absent; a too-large or non-UTF-8 file is an error value", async () => {
    codeCommit
      .on(GetFileCommand)
      .rejectsOnce(new FileDoesNotExistException({ message: "no file", $metadata: {} }))
      .rejectsOnce(new PathDoesNotExistException({ message: "no path", $metadata: {} }))
      .rejectsOnce(new FileTooLargeException({ message: "too large", $metadata: {} }))
      .resolvesOnce({ fileContent: new Uint8Array([0xff, 0xfe, 0x7b]) } as never);
    expect(await adapter.getFile(REPO, SOURCE_COMMIT, "lambdas.json")).to.deep.equal({
      kind: "absent",
      message: `lambdas.json does not exist at commit ${SOURCE_COMMIT}`,
    });
    expect(await adapter.getFile(REPO, SOURCE_COMMIT, "deploy/lambdas.json")).to.deep.include({
      kind: "absent",
    });
    const large = await adapter.getFile(REPO, SOURCE_COMMIT, "lambdas.json");
    expect(large).to.deep.equal({
      kind: "error",
      message: `lambdas.json is too large for CodeCommit's GetFile (limit ${GETFILE_MAX_BYTES} bytes, 6 MB)`,
    });
    expect(await adapter.getFile(REPO, SOURCE_COMMIT, "lambdas.json")).to.deep.equal({
      kind: "error",
      message: "lambdas.json: the file is not valid UTF-8",
    });
  });

  it("GetFile: any other error is thrown, never read as absent", async () => {
    for (const name of [
      "CommitDoesNotExistException",
      "AccessDeniedException",
      "EncryptionKeyAccessDeniedException",
    ]) {
      codeCommit
        .on(GetFileCommand)
        .rejects(new CodeCommitServiceException({ name, message: "no", $fault: "client", $metadata: {} }));
      let thrown: unknown;
      try {
        await adapter.getFile(REPO, SOURCE_COMMIT, "lambdas.json");
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).to.be.instanceOf(AwsCallError);
      expect((thrown as AwsCallError).errorName).to.equal(name);
    }
  });

  const request = {
    pullRequestId: PR_ID,
    repositoryName: REPO,
    beforeCommitId: DESTINATION_COMMIT,
    afterCommitId: SOURCE_COMMIT,
    content: "**lambda-gitops plan**: 1 noop.",
    clientRequestToken: "t".repeat(64),
  };

  it("PostCommentForPullRequest: sends exactly the request and returns the comment ID", async () => {
    codeCommit.on(PostCommentForPullRequestCommand).resolves({ comment: { commentId: "c-1" } });
    expect(await adapter.postComment(request)).to.deep.equal({ commentId: "c-1" });
    expect(codeCommit.commandCalls(PostCommentForPullRequestCommand)[0]!.args[0].input).to.deep.equal(
      request,
    );
  });

  /** GetCommentsForPullRequest answers the revision's comments, posted with these tokens. */
  const commentsWithTokens = (...tokens: string[]) =>
    codeCommit.on(GetCommentsForPullRequestCommand).resolves({
      commentsForPullRequestData: [
        { comments: tokens.map((clientRequestToken, i) => ({ commentId: `c-${i}`, clientRequestToken })) },
      ],
    });

  it("PostCommentForPullRequest: IdempotencyParameterMismatch is not proof of an earlier comment: without one it is an AwsCallError", async () => {
    codeCommit
      .on(PostCommentForPullRequestCommand)
      .rejects(new IdempotencyParameterMismatchException({ message: "token not valid", $metadata: {} }));
    commentsWithTokens("someone-elses-token");
    const thrown = await adapter.postComment(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(thrown).to.be.instanceOf(AwsCallError).and.not.instanceOf(CommentTokenConflictError);
    expect((thrown as Error).message).to.match(/no comment with this clientRequestToken exists/);
    expect(codeCommit.commandCalls(GetCommentsForPullRequestCommand)[0]!.args[0].input).to.deep.include({
      pullRequestId: request.pullRequestId,
      beforeCommitId: DESTINATION_COMMIT,
      afterCommitId: SOURCE_COMMIT,
    });
  });

  it("PostCommentForPullRequest: a reused token with other parameters is a CommentTokenConflictError", async () => {
    commentsWithTokens(request.clientRequestToken);
    codeCommit
      .on(PostCommentForPullRequestCommand)
      .rejectsOnce(new IdempotencyParameterMismatchException({ message: "mismatch", $metadata: {} }))
      .rejectsOnce(
        new CodeCommitServiceException({
          name: "ThrottlingException",
          message: "slow down",
          $fault: "client",
          $metadata: {},
        }),
      );
    let thrown: unknown;
    try {
      await adapter.postComment(request);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(CommentTokenConflictError);
    expect((thrown as Error).message).to.match(/already used with different parameters/);
    try {
      await adapter.postComment(request);
      thrown = undefined;
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(AwsCallError);
  });
});

// ---------------------------------------------------------------------------------------------

describe("pr-plan: runPrPlan (CodeCommit and CodePipeline mocked, Lambda faked)", () => {
  const credentials = { accessKeyId: "a", secretAccessKey: "b" };
  const codeCommitClient = new CodeCommitClient({ region: REGION, credentials });
  const codePipelineClient = new CodePipelineClient({ region: REGION, credentials });
  const codeCommit = mockClient(codeCommitClient);
  const codePipeline = mockClient(codePipelineClient);

  let lines: Json[];
  let awsCalls: { parameters: JobParameters; runId: string }[];
  let targetReads: string[];

  function deps(over: Partial<PrPlanDeps> = {}): PrPlanDeps {
    return {
      codecommit: createCodeCommitAdapter(codeCommitClient),
      pipeline: createPipelineConfigReader(codePipelineClient),
      aws: (parameters, runId) => {
        awsCalls.push({ parameters, runId });
        return fakeAws(parameters, targetReads);
      },
      env: ENV,
      logger: recordingLogger(lines),
      ...over,
    };
  }

  function serve(files: Record<string, string>, userParameters: string | null = USER_PARAMETERS): void {
    codePipeline
      .on(GetPipelineCommand)
      .resolves({ pipeline: { name: PIPELINE, roleArn: "r", stages: pipelineStages(userParameters) } });
    codeCommit.on(GetFileCommand).callsFake((input: { commitSpecifier?: string; filePath?: string }) => {
      const text = input.commitSpecifier === SOURCE_COMMIT ? files[input.filePath ?? ""] : undefined;
      if (text === undefined) throw new FileDoesNotExistException({ message: "no such file", $metadata: {} });
      return { fileContent: new TextEncoder().encode(text), commitId: SOURCE_COMMIT };
    });
    codeCommit.on(PostCommentForPullRequestCommand).resolves({ comment: { commentId: "comment-1" } });
  }

  function postedInputs() {
    return codeCommit.commandCalls(PostCommentForPullRequestCommand).map((c) => c.args[0].input);
  }

  beforeEach(() => {
    codeCommit.reset();
    codePipeline.reset();
    lines = [];
    awsCalls = [];
    targetReads = [];
  });

  it("posts one plan comment on the revision: before = destination tip, after = source tip, deterministic token", async () => {
    serve({ "lambdas.json": DEFINITION });
    const result = await runPrPlan(prEvent(), deps());
    expect(result).to.deep.include({ kind: "commented", body: "plan", commentId: "comment-1" });
    const posted = postedInputs();
    expect(posted).to.have.length(1);
    const input = posted[0]!;
    expect(input.pullRequestId).to.equal(PR_ID);
    expect(input.repositoryName).to.equal(REPO);
    expect(input.beforeCommitId).to.equal(DESTINATION_COMMIT);
    expect(input.afterCommitId).to.equal(SOURCE_COMMIT);
    expect(input.clientRequestToken).to.equal(commentToken(PR_ID, SOURCE_COMMIT, DESTINATION_COMMIT));
    expect(input).to.not.have.property("location");
    golden("plan.md", input.content!);

    // The pipeline's parameters drove the run: its name, its file, its policy and source role.
    expect(codePipeline.commandCalls(GetPipelineCommand)[0]!.args[0].input).to.deep.equal({ name: PIPELINE });
    expect(codeCommit.commandCalls(GetFileCommand).map((c) => c.args[0].input)).to.deep.equal([
      { repositoryName: REPO, commitSpecifier: SOURCE_COMMIT, filePath: "lambdas.json" },
    ]);
    expect(awsCalls).to.have.length(1);
    expect(awsCalls[0]!.parameters.sourceRoleArn).to.equal(SOURCE_ROLE);
    expect(awsCalls[0]!.parameters.allowedPrefixes).to.deep.equal(["team-a-"]);
    expect(awsCalls[0]!.runId).to.equal(`pr-${PR_ID}-a1b2c3d`);
    expect(targetReads.filter((r) => !/^(ListAliases|GetFunction|GetAlias) /.test(r))).to.deep.equal([]);
    expect(lines.filter((l) => l.message === "planned")).to.have.length(6);
  });

  it("renders the comment with the same renderer as `plan --format markdown`", async () => {
    serve({ "lambdas.json": DEFINITION });
    const result = await runPrPlan(prEvent(), deps());
    if (result.kind !== "commented") throw new Error(result.kind);
    const plan = await planOfDefinition();
    const cli = renderPlan(plan, "markdown");
    expect(cli).to.equal(renderPlanMarkdown(plan));
    // The comment is the CLI's markdown with one context line under the summary.
    const [summary, context, ...rest] = result.content.split("\n");
    expect(context).to.equal(contextLine(PR, "lambdas.json", PIPELINE));
    expect([summary, ...rest].join("\n")).to.equal(cli);
  });

  it("posts the identical request when the event is delivered again, so CodeCommit keeps one comment", async () => {
    serve({ "lambdas.json": DEFINITION });
    await runPrPlan(prEvent(), deps());
    await runPrPlan(prEvent({ event: "pullRequestCreated" }), deps());
    const [first, second] = postedInputs();
    expect(second).to.deep.equal(first);
  });

  it("reads the DEFINITION_FILE override instead of the pipeline's definitionFile", async () => {
    serve({ "lambdas.json": "{}", "deploy/prod.json": DEFINITION });
    const result = await runPrPlan(prEvent(), deps({ env: { ...ENV, DEFINITION_FILE: "deploy/prod.json" } }));
    expect(result).to.deep.include({ kind: "commented", body: "plan" });
    expect(codeCommit.commandCalls(GetFileCommand)[0]!.args[0].input.filePath).to.equal("deploy/prod.json");
  });

  it("keeps the first comment when a redelivery's plan differs (IdempotencyParameterMismatch), without throwing", async () => {
    serve({ "lambdas.json": DEFINITION });
    codeCommit
      .on(PostCommentForPullRequestCommand)
      .rejects(new IdempotencyParameterMismatchException({ message: "mismatch", $metadata: {} }));
    codeCommit.on(GetCommentsForPullRequestCommand).resolves({
      commentsForPullRequestData: [
        { comments: [{ commentId: "c-0", clientRequestToken: commentToken(PR_ID, SOURCE_COMMIT, DESTINATION_COMMIT) }] },
      ],
    });
    const result = await runPrPlan(prEvent(), deps());
    expect(result).to.deep.include({ kind: "already-commented", body: "plan" });
    expect(lines.some((l) => l.level === "warn" && /already exists/.test(String(l.message)))).to.equal(true);
  });

  it("lets AWS errors from posting surface (Lambda retries; the token keeps it idempotent)", async () => {
    serve({ "lambdas.json": DEFINITION });
    codeCommit.on(PostCommentForPullRequestCommand).rejects(
      new CodeCommitServiceException({
        name: "ThrottlingException",
        message: "slow down",
        $fault: "client",
        $metadata: {},
      }),
    );
    let thrown: unknown;
    try {
      await runPrPlan(prEvent(), deps());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(AwsCallError);
    expect(lines.some((l) => l.level === "error" && l.message === "pull-request plan failed")).to.equal(true);
  });

  it("lists definition problems with file:line:col, and functions outside the prefixes", async () => {
    const invalid = [
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-orders", "version": "1.1" },',
      '    { "name": "team-a-api", "version": "v1.1.1" },',
      '    { "name": "team-a-orders", "version": "1.2.0" }',
      "  ]",
      "}",
      "",
    ].join("\n");
    serve({ "lambdas.json": invalid });
    const result = await runPrPlan(prEvent(), deps());
    expect(result).to.deep.include({ kind: "commented", body: "definition" });
    const content = postedInputs()[0]!.content!;
    expect(content).to.match(/`lambdas\.json:3:\d+` `lambdas\[0\]\.version`/);
    expect(content).to.match(/`lambdas\.json:4:\d+` `lambdas\[1\]\.version`/);
    golden("invalid-definition.md", content);
    expect(awsCalls).to.deep.equal([]);

    const outside = JSON.stringify(
      {
        lambdas: [
          { name: "team-a-orders", version: "1.1.0" },
          { name: "payments-core", version: "1.0.0" },
        ],
      },
      null,
      2,
    );
    codeCommit.reset();
    serve({ "lambdas.json": outside });
    await runPrPlan(prEvent(), deps());
    const policy = postedInputs()[0]!.content!;
    golden("outside-prefixes.md", policy);
    expect(policy).to.contain('`lambdas.json:8:15` `lambdas[1].name`: function "payments-core" is outside');
    expect(awsCalls).to.deep.equal([]);
  });

  it("applies the stack's pin: UserParameters may not widen ALLOWED_PREFIXES nor name another Region; its own function is refused", async () => {
    serve({ "lambdas.json": DEFINITION }, JSON.stringify({ allowedPrefixes: ["team-"] }));
    await runPrPlan(prEvent(), deps({ env: { ...ENV, ALLOWED_PREFIXES: "team-a-" } }));
    expect(postedInputs()[0]!.content).to.contain(
      'prefix "team-" is not allowed by the stack (ALLOWED_PREFIXES: "team-a-"); UserParameters may narrow the stack\'s prefixes, never widen them',
    );
    expect(codeCommit.commandCalls(GetFileCommand)).to.have.length(0);
    expect(awsCalls).to.deep.equal([]);

    codeCommit.reset();
    serve({ "lambdas.json": DEFINITION });
    await runPrPlan(prEvent(), deps({ env: { ...ENV, AWS_LAMBDA_FUNCTION_NAME: "team-a-orders" } }));
    expect(postedInputs()[0]!.content).to.contain('function "team-a-orders" is lambda-gitops itself');
    expect(awsCalls).to.deep.equal([]);

    // A region parameter the reconciler (in the planner's Region) would refuse: said, not planned.
    codeCommit.reset();
    serve({ "lambdas.json": DEFINITION }, JSON.stringify({ allowedPrefixes: ["team-a-"], region: "us-east-1" }));
    await runPrPlan(prEvent(), deps({ env: { ...ENV, AWS_REGION: "eu-west-1" } }));
    expect(postedInputs()[0]!.content).to.contain('region "us-east-1" is not this reconciler\'s Region ("eu-west-1")');
    expect(codeCommit.commandCalls(GetFileCommand)).to.have.length(0);
    expect(awsCalls).to.deep.equal([]);
  });

  it("redacts AWS error text in the comment: other accounts' ids and ARNs; keeps the pipeline's and the source's", async () => {
    serve({ "lambdas.json": DEFINITION });
    const denied = new AwsCallError(
      "ListAliases",
      new LambdaServiceException({
        name: "AccessDeniedException",
        message: `User: arn:aws:sts::999988887777:assumed-role/ops/session is not authorized to perform: lambda:ListAliases on resource: arn:aws:lambda:${REGION}:${TARGET}:function:team-a-orders because of an SCP in 999988887777 (source ${SOURCE})`,
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const aws = (parameters: JobParameters): AwsContext => {
      const context = fakeAws(parameters);
      return {
        ...context,
        target: {
          ...context.target,
          listAliases: async (name: string) => {
            if (name === "team-a-orders") throw denied;
            return context.target.listAliases(name);
          },
        },
      };
    };
    await runPrPlan(prEvent(), deps({ aws }));
    const content = postedInputs()[0]!.content!;
    expect(content).to.contain("AccessDeniedException");
    expect(content).to.not.contain("999988887777");
    expect(content).to.contain("<ARN in another account> is not authorized");
    expect(content).to.contain(`arn:aws:lambda:${REGION}:${TARGET}:function:team-a-orders`);
    expect(content).to.contain(`an SCP in <account> (source ${SOURCE})`);
  });

  it("reports a missing definition file (always the configured path) in the comment", async () => {
    serve({ "other/lambdas.json": DEFINITION });
    const result = await runPrPlan(prEvent(), deps());
    expect(result).to.deep.include({ kind: "commented", body: "file" });
    golden("missing-file.md", postedInputs()[0]!.content!);
  });

  it("reports invalid pipeline UserParameters as a configuration problem", async () => {
    serve({ "lambdas.json": DEFINITION }, '{"allowedPrefixes":[""],\n "sourceRoleArm":"x"}');
    const result = await runPrPlan(prEvent(), deps());
    expect(result).to.deep.include({ kind: "commented", body: "parameters" });
    golden("invalid-parameters.md", postedInputs()[0]!.content!);
    expect(codeCommit.commandCalls(GetFileCommand)).to.have.length(0);
  });

  it("reports a missing pipeline action and missing settings as configuration problems", async () => {
    serve({ "lambdas.json": DEFINITION });
    await runPrPlan(prEvent(), deps({ env: { ...ENV, ACTION_NAME: "Apply" } }));
    expect(postedInputs()[0]!.content).to.equal(
      '**lambda-gitops plan**: could not plan: cannot read the settings of pipeline `lambda-gitops` action `Apply`: pipeline "lambda-gitops" has no action named "Apply" (Invoke actions: "Reconcile/Reconcile"). This is a problem in the deployment of lambda-gitops, not in this pull request.',
    );
    codeCommit.reset();
    serve({ "lambdas.json": DEFINITION });
    await runPrPlan(prEvent(), deps({ env: {} }));
    golden("settings.md", postedInputs()[0]!.content!);
    expect(codePipeline.commandCalls(GetPipelineCommand)).to.have.length(1); // only the first run's
  });

  it("ignores other events and malformed ones with a log line and no AWS call", async () => {
    serve({ "lambdas.json": DEFINITION });
    expect(await runPrPlan(prEvent({ isMerged: "True" }), deps())).to.deep.include({ kind: "ignored" });
    expect(await runPrPlan(prEvent({ event: "pullRequestStatusChanged" }), deps())).to.deep.include({
      kind: "ignored",
    });
    expect(await runPrPlan({ hello: "world" }, deps())).to.deep.include({ kind: "invalid-event" });
    expect(await runPrPlan(undefined, deps())).to.deep.include({ kind: "invalid-event" });
    expect(codeCommit.calls()).to.have.length(0);
    expect(codePipeline.calls()).to.have.length(0);
    expect(lines.map((l) => [l.level, l.message])).to.deep.equal([
      ["info", "ignored event: not a new or updated open pull request"],
      ["info", "ignored event: not a new or updated open pull request"],
      ["error", "invalid CodeCommit pull request event; nothing to comment on"],
      ["error", "invalid CodeCommit pull request event; nothing to comment on"],
    ]);
  });

  /** The plan the pipeline would make for DEFINITION against the fake accounts. */
  async function planOfDefinition(): Promise<Plan> {
    const { loadDesired } = await import("../../../reconciler/input/desired.ts");
    const { makePlan } = await import("../../../reconciler/entry/context.ts");
    const { parseUserParameters } = await import("../../../reconciler/input/parameters.ts");
    const params = parseUserParameters(USER_PARAMETERS);
    const desired = loadDesired(DEFINITION, "lambdas.json", ["team-a-"]);
    if (!params.ok || !desired.ok) throw new Error("fixture invalid");
    return makePlan(desired.definition, params.parameters, fakeAws(params.parameters));
  }
});

describe("pr-plan: comment size", () => {
  /** A plan of `count` functions, each blocked with a long reason (the widest rows there are). */
  function bigPlan(count: number): Plan {
    return {
      liveAlias: "LIVE",
      entries: Array.from({ length: count }, (_, i) => ({
        key: { account: "target", region: "us-east-1", name: `team-a-function-${String(i).padStart(4, "0")}` },
        name: `team-a-function-${String(i).padStart(4, "0")}`,
        declared: { version: "1.2.3", canary: { version: "1.3.0-rc.1", weight: 12.5 } },
        live: {
          routing: { functionVersion: "41", weights: {} },
          version: "1.2.2",
          revisionId: "r",
          description: "",
          marker: undefined,
        },
        action: {
          kind: "blocked" as const,
          code: "version-missing" as const,
          reason: `version 1.3.0-rc.1 (alias "1-3-0_rc-1") exists neither here nor in the source account`,
        },
      })),
    };
  }

  it(`stays within ${MAX_COMMENT_LENGTH} characters, keeping the counts and saying how many rows were left out`, () => {
    const content = renderComment(PR, {
      kind: "plan",
      file: "lambdas.json",
      plan: bigPlan(200),
      pipelineName: PIPELINE,
    });
    expect(content.length).to.be.at.most(MAX_COMMENT_LENGTH);
    expect(content.split("\n")[0]).to.equal("**lambda-gitops plan**: 200 blocked.");
    const rows = content.split("\n").filter((l) => l.startsWith("| `team-a-"));
    const note = new RegExp(
      `^_${200 - rows.length} more functions not shown; run \`lambda-gitops plan\` for the full plan\\._$`,
    );
    expect(content.split("\n").at(-1)).to.match(note);
    expect(content.split("\n").at(-2)).to.equal(""); // the table ends before the note
    expect(rows.length).to.be.greaterThan(40);
    golden("truncated.md", content);
  });

  it("fits exactly at the boundary: every count from 1 to 150 functions stays within the limit", () => {
    for (let count = 1; count <= 150; count++) {
      const plan = bigPlan(count);
      const content = renderComment(PR, { kind: "plan", file: "lambdas.json", plan, pipelineName: PIPELINE });
      expect(content.length, String(count)).to.be.at.most(MAX_COMMENT_LENGTH);
      const shown = content.split("\n").filter((l) => l.startsWith("| `team-a-")).length;
      const omitted = Number(/_(\d+) more functions? not shown/.exec(content)?.[1] ?? 0);
      expect(shown + omitted, String(count)).to.equal(count);
      // Nothing is left out while the whole table fits.
      const whole = renderPlanMarkdown(plan, { context: [contextLine(PR, "lambdas.json", PIPELINE)] });
      if (whole.length <= MAX_COMMENT_LENGTH) expect(content).to.equal(whole);
    }
  });

  it("summarises a long problem list the same way", () => {
    const problems = Array.from({ length: 500 }, (_, i) => ({
      file: "lambdas.json",
      line: i + 3,
      column: 17,
      path: `lambdas[${i}].version`,
      message: '"1.1" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.2.3")',
    }));
    const content = renderComment(PR, {
      kind: "definition",
      file: "lambdas.json",
      problems,
      pipelineName: PIPELINE,
    });
    expect(content.length).to.be.at.most(MAX_COMMENT_LENGTH);
    expect(content).to.match(
      /_\d+ more problems not shown; run `lambda-gitops validate` for the full list\._$/,
    );
  });
});
