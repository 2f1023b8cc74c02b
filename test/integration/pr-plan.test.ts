/**
 * The pull-request planner's real entry point (`handler` of reconciler/pr-plan.ts) end to end over
 * HTTP: Lambda, STS, IAM and CodePipeline (GetPipeline) are moto; CodeCommit GetFile and
 * PostCommentForPullRequest are the launcher's stand-in (test/support/moto_launcher.py). The
 * function runs "in production" (PRODUCTION's assumed-role credentials, from the environment as in
 * Lambda) and plans against STAGING through the pipeline's source role. The comment is compared
 * with `lambda-gitops plan --format json` for the same file and accounts.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CodeCommitClient,
  IdempotencyParameterMismatchException,
  PostCommentForPullRequestCommand,
} from "@aws-sdk/client-codecommit";
import { CodePipelineClient, CreatePipelineCommand } from "@aws-sdk/client-codepipeline";
import { UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { runCli } from "../../reconciler/entry/cli.ts";
import { commentToken, defaultDeps, handler, runPrPlan } from "../../reconciler/entry/pr-plan.ts";
import type { PlanJson } from "../../reconciler/report/report.ts";
import { pullRequestEvent } from "../support/events.ts";
import { type MotoServer, MUTATING_LAMBDA_OPERATIONS, motoEnv, startMoto } from "../support/moto.ts";
import {
  type AccountWorld,
  account,
  createSourceRole,
  ensureRole,
  PRODUCTION,
  type SeededVersion,
  STAGING,
  seedFunction,
  sourceRoleArn,
} from "../support/seed.ts";

const REPO = "lambda-definitions";
const PIPELINE = "lambda-gitops";
const ACTION = "Reconcile";
const PREFIX = "team-a-";
const MAIN_TIP = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567";
const commitOf = (n: number) => n.toString(16).padStart(40, "c");

const context = { awsRequestId: "req-pr-plan", getRemainingTimeInMillis: () => 300_000 };

/** What EventBridge delivers for a new pull request (or a push to its source branch). */
function prEvent(
  pullRequestId: string,
  sourceCommit: string,
  event = "pullRequestCreated",
  detail: Record<string, unknown> = {},
) {
  return pullRequestEvent({
    account: PRODUCTION,
    region: "us-east-1",
    repository: REPO,
    envelope: { id: `evt-${pullRequestId}-${sourceCommit.slice(0, 7)}` },
    detail: {
      event,
      pullRequestId,
      sourceCommit,
      destinationCommit: MAIN_TIP,
      sourceReference: "refs/heads/release",
      title: "release",
      revisionId: "rev",
      ...detail,
    },
  });
}

const lambdasJson = (lambdas: object[]) => `${JSON.stringify({ lambdas }, null, 2)}\n`;

/** One function per kind of decision; every name but the foreign one under PREFIX. */
const DEFINITION = lambdasJson([
  { name: "team-a-orders", version: "1.1.0" }, // promote from staging
  { name: "team-a-api", version: "2.0.0" }, // rollback
  { name: "team-a-search", version: "1.1.1" }, // noop
  { name: "team-a-billing", version: "4.0.0", canary: { version: "4.1.0", weight: 10 } }, // rollforward
  { name: "team-a-reports", version: "1.5.0" }, // blocked: nowhere
]);

interface Row {
  name: string;
  action: string;
  liveVersion: string | null;
  liveFunctionVersion: string | null;
  desiredVersion: string;
  canary: { version: string; weight: number } | null;
  details: string;
}

/** The comment's table, read back: `| \`name\` | action | 1.0.0 (v1) | 4.0.0 + 10% 4.1.0 | details |`. */
function tableRows(markdown: string): Row[] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const cells = line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.trim());
      const [name = "", action = "", live = "", desired = "", details = ""] = cells;
      const liveMatch = /^(?:(\S+) )?\(v(\d+)\)/.exec(live);
      const canary = /^(\S+) \+ ([\d.]+)% (\S+)$/.exec(desired);
      return {
        name: name.replace(/`/g, ""),
        action: action.replace(/\*/g, ""),
        liveVersion: liveMatch?.[1] ?? null,
        liveFunctionVersion: liveMatch?.[2] ?? (/^v(\d+)/.exec(live)?.[1] || null),
        desiredVersion: canary ? canary[1]! : desired,
        canary: canary ? { version: canary[3]!, weight: Number(canary[2]) } : null,
        details,
      };
    });
}

describe("pr-plan handler against moto: a pull request gets the plan as one comment", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let staging: AccountWorld;
  let production: AccountWorld;
  let dir: string;
  let seeded: Record<string, Record<string, SeededVersion>>;
  const savedEnv: Record<string, string | undefined> = {};

  function setEnv(values: Record<string, string>): void {
    for (const [key, value] of Object.entries(values)) {
      if (!(key in savedEnv)) savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
  }

  before(async () => {
    moto = await startMoto();
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-pr-plan-"));
    staging = await account(moto, STAGING);
    production = await account(moto, PRODUCTION);
    await createSourceRole(staging, PRODUCTION);
    const stagingOrders = await seedFunction(staging, {
      name: "team-a-orders",
      versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
      live: "1.1.0",
    });
    seeded = { stagingOrders: stagingOrders.versions };
    await seedFunction(production, {
      name: "team-a-orders",
      versions: [{ version: "1.0.0" }],
      live: "1.0.0",
    });
    await seedFunction(production, {
      name: "team-a-api",
      versions: [{ version: "2.0.0" }, { version: "2.1.0" }],
      live: "2.1.0",
    });
    await seedFunction(production, {
      name: "team-a-search",
      versions: [{ version: "1.1.1" }],
      live: "1.1.1",
    });
    await seedFunction(production, {
      name: "team-a-billing",
      versions: [{ version: "4.0.0" }, { version: "4.1.0" }],
      live: "4.0.0",
    });
    await seedFunction(production, {
      name: "team-a-reports",
      versions: [{ version: "1.0.0" }],
      live: "1.0.0",
    });

    // The pipeline (moto's own CodePipeline) whose Invoke action carries the policy.
    const pipelineRole = await ensureRole(production.clientConfig, "lambda-gitops-pipeline", {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "codepipeline.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    const codePipeline = new CodePipelineClient(production.clientConfig);
    await codePipeline.send(
      new CreatePipelineCommand({
        pipeline: {
          name: PIPELINE,
          roleArn: pipelineRole,
          artifactStore: { type: "S3", location: "lambda-gitops-artifacts" },
          stages: [
            {
              name: "Source",
              actions: [
                {
                  name: "Source",
                  actionTypeId: { category: "Source", owner: "AWS", provider: "CodeCommit", version: "1" },
                  configuration: { RepositoryName: REPO, BranchName: "main", PollForSourceChanges: "false" },
                  outputArtifacts: [{ name: "Definitions" }],
                },
              ],
            },
            {
              name: "Reconcile",
              actions: [
                {
                  name: ACTION,
                  actionTypeId: { category: "Invoke", owner: "AWS", provider: "Lambda", version: "1" },
                  inputArtifacts: [{ name: "Definitions" }],
                  configuration: {
                    FunctionName: "lambda-gitops-reconciler",
                    UserParameters: JSON.stringify({
                      allowedPrefixes: [PREFIX],
                      sourceRoleArn: sourceRoleArn(STAGING),
                      liveAlias: "LIVE",
                      definitionFile: "lambdas.json",
                    }),
                  },
                },
              ],
            },
          ],
        },
      }),
    );
    codePipeline.destroy();

    // The function's environment in Lambda: its own (production) credentials and settings.
    const { credentials } = production;
    setEnv({
      ...motoEnv(moto),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken ?? "",
      PIPELINE_NAME: PIPELINE,
      ACTION_NAME: ACTION,
      LOG_LEVEL: "silent",
    });
  });

  after(async () => {
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    staging?.lambda.destroy();
    production?.lambda.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `lambda-gitops plan --format json` for `text`, with the pipeline's settings, in production. */
  async function cliPlan(text: string): Promise<PlanJson> {
    const file = join(dir, "lambdas.json");
    await writeFile(file, text);
    let stdout = "";
    let stderr = "";
    const code = await runCli(
      [
        "plan",
        file,
        "--allowed-prefix",
        PREFIX,
        "--source-role-arn",
        sourceRoleArn(STAGING),
        "--format",
        "json",
      ],
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: process.env },
    );
    expect(code, stderr).to.be.oneOf([0, 1]); // 1: the plan has a blocked function
    return JSON.parse(stdout) as PlanJson;
  }

  async function commentsOn(pullRequestId: string) {
    return (await moto.codeCommitComments()).filter((c) => c.pullRequestId === pullRequestId);
  }

  it("posts exactly one comment whose table matches `plan --format json`, and a retried event adds none", async () => {
    const sourceCommit = commitOf(1);
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: sourceCommit,
      filePath: "lambdas.json",
      content: DEFINITION,
    });
    await moto.resetCalls();

    await handler(prEvent("1", sourceCommit), context);

    const comments = await commentsOn("1");
    expect(comments).to.have.length(1);
    const [comment] = comments as [(typeof comments)[number]];
    expect(comment.account).to.equal(PRODUCTION);
    expect(comment.repositoryName).to.equal(REPO);
    expect(comment.beforeCommitId).to.equal(MAIN_TIP);
    expect(comment.afterCommitId).to.equal(sourceCommit);
    expect(comment.clientRequestToken).to.equal(commentToken("1", sourceCommit, MAIN_TIP));
    expect(comment.location).to.equal(null);
    expect(comment.content.length).to.be.at.most(10_240);
    expect(comment.content.split("\n")[0]).to.equal(
      "**lambda-gitops plan**: 1 noop, 1 rollback, 1 rollforward, 1 promote, 1 blocked.",
    );

    // Read-only: the planner read Lambda in both accounts and wrote nothing.
    const calls = await moto.calls();
    expect(calls.filter((c) => MUTATING_LAMBDA_OPERATIONS.has(c.operation))).to.deep.equal([]);
    expect(calls.filter((c) => c.service === "lambda").map((c) => c.account)).to.include.members([
      PRODUCTION,
      STAGING,
    ]);
    expect(calls.some((c) => c.operation === "GetPipeline" && c.status === 200)).to.equal(true);
    expect(calls.filter((c) => c.operation === "GetFile").map((c) => c.status)).to.deep.equal([200]);

    const plan = await cliPlan(DEFINITION);
    const rows = tableRows(comment.content);
    expect(rows.map((r) => r.name)).to.deep.equal(plan.functions.map((f) => f.name));
    for (const [index, f] of plan.functions.entries()) {
      const row = rows[index]!;
      expect(
        {
          action: row.action,
          desiredVersion: row.desiredVersion,
          canary: row.canary,
          liveVersion: row.liveVersion,
          liveFunctionVersion: row.liveFunctionVersion,
        },
        f.name,
      ).to.deep.equal({
        action: f.action,
        desiredVersion: f.desiredVersion,
        canary: f.canary ?? null,
        liveVersion: f.liveVersion,
        liveFunctionVersion: f.liveFunctionVersion,
      });
      if (f.action === "blocked") expect(row.details, f.name).to.equal(f.reason);
      for (const source of f.sources ?? []) {
        expect(row.details, f.name).to.contain(`from ${source.account} (v${source.functionVersion}`);
        expect(row.details, f.name).to.contain(source.codeSha256.slice(0, 12));
      }
    }
    // The promotion really names staging's version and code.
    const orders = plan.functions.find((f) => f.name === "team-a-orders")!;
    expect(orders.sources).to.deep.equal([
      {
        version: "1.1.0",
        account: STAGING,
        functionVersion: seeded.stagingOrders!["1.1.0"]!.functionVersion,
        codeSha256: seeded.stagingOrders!["1.1.0"]!.codeSha256,
      },
    ]);

    // EventBridge delivers the same event again: the identical request returns the first comment.
    await moto.resetCalls();
    await handler(prEvent("1", sourceCommit), context);
    expect(await commentsOn("1")).to.deep.equal(comments);
    const posts = (await moto.calls()).filter((c) => c.operation === "PostCommentForPullRequest");
    expect(posts.map((c) => c.status)).to.deep.equal([200]);
  });

  it("keeps one comment per revision when the plan changed between deliveries, and comments again on a new commit", async () => {
    const sourceCommit = commitOf(2);
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: sourceCommit,
      filePath: "lambdas.json",
      content: DEFINITION,
    });
    const first = await runPrPlan(prEvent("2", sourceCommit), defaultDeps());
    expect(first.kind).to.equal("commented");

    // Someone rolls team-a-api back by hand: a redelivered event now plans a noop there.
    await production.lambda.send(
      new UpdateAliasCommand({ FunctionName: "team-a-api", Name: "LIVE", FunctionVersion: "1" }),
    );
    const again = await runPrPlan(prEvent("2", sourceCommit), defaultDeps());
    expect(again.kind).to.equal("already-commented");
    expect(await commentsOn("2")).to.have.length(1);

    // A push to the source branch is a new revision: it gets its own comment with the new plan.
    const pushed = commitOf(3);
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: pushed,
      filePath: "lambdas.json",
      content: DEFINITION,
    });
    await handler(prEvent("2", pushed, "pullRequestSourceBranchUpdated"), context);
    const comments = await commentsOn("2");
    expect(comments.map((c) => c.afterCommitId)).to.deep.equal([sourceCommit, pushed]);
    expect(tableRows(comments[1]!.content).find((r) => r.name === "team-a-api")?.action).to.equal("noop");

    await production.lambda.send(
      new UpdateAliasCommand({ FunctionName: "team-a-api", Name: "LIVE", FunctionVersion: "2" }),
    );
  });

  it("lists the problems of an invalid definition with their line numbers", async () => {
    const sourceCommit = commitOf(4);
    const invalid = [
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-orders", "version": "1.1" },',
      '    { "name": "team-a-api", "version": "2.0.0", "canary": { "version": "2.0.0", "weight": 150 } },',
      '    { "name": "team-a-api", "version": "2.0.0" }',
      "  ]",
      "}",
    ].join("\n");
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: sourceCommit,
      filePath: "lambdas.json",
      content: invalid,
    });
    await moto.resetCalls();
    await handler(prEvent("4", sourceCommit), context);

    const comments = await commentsOn("4");
    expect(comments).to.have.length(1);
    const content = comments[0]!.content;
    expect(content.split("\n")[0]).to.match(
      /^\*\*lambda-gitops plan\*\*: `lambdas\.json` is invalid \(\d+ problems\)/,
    );
    expect(content).to.match(
      /- `lambdas\.json:3:\d+` `lambdas\[0\]\.version`: "1\.1" is not a valid semantic version/,
    );
    expect(content).to.match(/- `lambdas\.json:4:\d+` `lambdas\[1\]\.canary/);
    expect(content).to.match(
      /- `lambdas\.json:5:\d+` `lambdas\[2\]\.name`: function "team-a-api" is listed more than once/,
    );
    // Nothing was planned: no Lambda call at all.
    expect((await moto.calls()).filter((c) => c.service === "lambda")).to.deep.equal([]);
  });

  it("reports a function outside the allowed prefixes, before any Lambda call", async () => {
    const sourceCommit = commitOf(5);
    const outside = lambdasJson([
      { name: "team-a-orders", version: "1.1.0" },
      { name: "payments-core", version: "1.0.0" },
    ]);
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: sourceCommit,
      filePath: "lambdas.json",
      content: outside,
    });
    await moto.resetCalls();
    await handler(prEvent("5", sourceCommit), context);

    const [comment] = await commentsOn("5");
    expect(comment?.content).to.contain(
      '- `lambdas.json:8:15` `lambdas[1].name`: function "payments-core" is outside the allowed prefixes ("team-a-")',
    );
    expect((await moto.calls()).filter((c) => c.service === "lambda")).to.deep.equal([]);
  });

  it("reports a missing definition file in the comment instead of failing", async () => {
    const sourceCommit = commitOf(6);
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: sourceCommit,
      filePath: "other/lambdas.json",
      content: DEFINITION,
    });
    await handler(prEvent("6", sourceCommit), context);
    const [comment] = await commentsOn("6");
    expect(comment?.content).to.match(/could not plan: `lambdas\.json` does not exist at commit `ccccccc`/);
  });

  it("ignores merged pull requests without any AWS call", async () => {
    await moto.resetCalls();
    const merged = prEvent("7", commitOf(7), "pullRequestCreated", { isMerged: "True" });
    await handler(merged, context);
    expect(await moto.calls()).to.deep.equal([]);
    expect(await commentsOn("7")).to.deep.equal([]);
  });

  it("stand-in: a reused token with different parameters is IdempotencyParameterMismatchException", async () => {
    const client = new CodeCommitClient(production.clientConfig);
    const request = {
      pullRequestId: "8",
      repositoryName: REPO,
      beforeCommitId: MAIN_TIP,
      afterCommitId: commitOf(8),
      content: "first",
      clientRequestToken: "t".repeat(64),
    };
    const first = await client.send(new PostCommentForPullRequestCommand(request));
    const repeated = await client.send(new PostCommentForPullRequestCommand(request));
    expect(repeated.comment?.commentId).to.equal(first.comment?.commentId);
    let thrown: unknown;
    try {
      await client.send(new PostCommentForPullRequestCommand({ ...request, content: "second" }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(IdempotencyParameterMismatchException);
    expect(await commentsOn("8")).to.have.length(1);
    client.destroy();
  });
});
