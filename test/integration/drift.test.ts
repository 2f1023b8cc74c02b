/**
 * The scheduled drift check's real entry point (runDriftCheck with its default, real SDK clients)
 * end to end over HTTP, for both kinds of pipeline source: CodeCommit and CodeConnections (GitHub,
 * GitLab, Bitbucket). Lambda, STS, IAM, S3 (the artifact store), CodePipeline (GetPipeline),
 * CloudWatch and EventBridge are moto; the launcher answers what moto lacks: ListPipelineExecutions
 * and ListActionExecutions from the history the test sets, CodeCommit GetFile, CloudTrail LookupEvents.
 *
 * Production holds three functions whose LIVE alias carries the marker the reconciler writes:
 * team-a-orders (LIVE then moved by hand, 1.5.0 -> 1.4.0), team-a-api (as written) and
 * team-a-search (LIVE without a marker: drift cannot be told). The pipeline's history: an older run
 * deployed another file (team-a-api 1.0.0 only), the last run of the Reconcile action deployed
 * commit c2 (the three functions), and a newer execution (commit c3) stopped before Reconcile.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { CreateAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { silentLogger } from "../../reconciler/core/log.ts";
import { defaultDriftDeps, runDriftCheck } from "../../reconciler/entry/drift.ts";
import { encodeMarker } from "../../reconciler/observe/marker.ts";
import { type MotoServer, motoEnv, startMoto } from "../support/moto.ts";
import { createArtifactBucket, describeCalls, mutatingCalls, putSourceArtifact, repositoryFiles } from "../support/scenario.ts";
import { createReconcilePipeline, pipelineHistoryOf, type SourceKind } from "../support/pipeline.ts";
import { type AccountWorld, account, PRODUCTION, seedFunction } from "../support/seed.ts";

const REPO = "lambda-definitions";
const PIPELINE = "lambda-gitops";
const ACTION = "Reconcile";
const BUCKET = "lambda-gitops-artifacts";
const RECONCILER_ROLE = `arn:aws:iam::${PRODUCTION}:role/lambda-gitops-reconciler`;
const USER_PARAMETERS = { allowedPrefixes: ["team-a-"], definitionFile: "lambdas.json" };
const DEPLOYED = JSON.stringify({
  lambdas: [
    { name: "team-a-orders", version: "1.5.0" },
    { name: "team-a-api", version: "2.0.0" },
    { name: "team-a-search", version: "1.0.0" },
  ],
});

/** The production world of the header comment, and the pipeline (of `kind`) with its history. */
async function seedWorld(moto: MotoServer, kind: SourceKind): Promise<AccountWorld> {
  const production = await account(moto, PRODUCTION);
  const lambda = production.lambda;
  const seedWithMarker = async (name: string, versions: string[], live: string) => {
    const seeded = await seedFunction(production, { name, versions: versions.map((version) => ({ version })) });
    const functionVersion = seeded.versions[live]!.functionVersion;
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: name,
        Name: "LIVE",
        FunctionVersion: functionVersion,
        Description: encodeMarker({ version: live, functionVersion, weights: {} }),
      }),
    );
    return seeded.versions;
  };
  const orders = await seedWithMarker("team-a-orders", ["1.4.0", "1.5.0"], "1.5.0");
  await seedWithMarker("team-a-api", ["2.0.0"], "2.0.0");
  await seedFunction(production, { name: "team-a-search", versions: [{ version: "1.0.0" }], live: "1.0.0" });
  // Someone moves team-a-orders' LIVE back to 1.4.0 in the console (the description stays).
  await lambda.send(
    new UpdateAliasCommand({ FunctionName: "team-a-orders", Name: "LIVE", FunctionVersion: orders["1.4.0"]!.functionVersion }),
  );

  await createReconcilePipeline(production.clientConfig, {
    name: PIPELINE,
    action: ACTION,
    repository: REPO,
    userParameters: USER_PARAMETERS,
    source: kind,
  });
  await createArtifactBucket(production, BUCKET);
  await putSourceArtifact(production, BUCKET, `${PIPELINE}/Definitio/c2`, repositoryFiles(DEPLOYED));
  await putSourceArtifact(
    production,
    BUCKET,
    `${PIPELINE}/Definitio/c1`,
    repositoryFiles(JSON.stringify({ lambdas: [{ name: "team-a-api", version: "1.0.0" }] })),
  );
  await moto.definePipelineHistory(
    pipelineHistoryOf(PIPELINE, { kind, repository: REPO, action: ACTION, userParameters: USER_PARAMETERS, account: PRODUCTION }, [
      { pipelineExecutionId: "exec-3", startTime: new Date("2026-12-01T10:00:00Z"), status: "Stopped", revision: "c3" },
      {
        pipelineExecutionId: "exec-2",
        startTime: new Date("2026-12-01T09:00:00Z"),
        status: "Succeeded",
        revision: "c2",
        reconcile: { status: "Succeeded", bucket: BUCKET, key: `${PIPELINE}/Definitio/c2` },
      },
      {
        pipelineExecutionId: "exec-1",
        startTime: new Date("2026-11-20T09:00:00Z"),
        status: "Succeeded",
        revision: "c1",
        reconcile: { status: "Succeeded", bucket: BUCKET, key: `${PIPELINE}/Definitio/c1` },
      },
    ]),
  );
  await moto.defineTrailEvents(
    [
      {
        resourceName: "team-a-orders",
        EventName: "UpdateAlias20150331",
        EventTime: Date.parse("2026-11-30T14:02:00Z") / 1000,
        CloudTrailEvent: JSON.stringify({
          userIdentity: {
            arn: `arn:aws:sts::${PRODUCTION}:assumed-role/Admin/alice`,
            sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${PRODUCTION}:role/Admin` } },
          },
          userAgent: "console.amazonaws.com",
          requestParameters: { functionName: "team-a-orders", name: "LIVE", functionVersion: "1" },
        }),
      },
    ],
    PRODUCTION,
  );
  return production;
}

/** Points the default SDK clients at moto, in production's account, for the duration of a suite. */
function useEnvironment(values: () => Record<string, string>): void {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const [key, value] of Object.entries(values())) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}

const SOURCES: { kind: SourceKind; env: Record<string, string>; fileChange: string; reads: string[] }[] = [
  {
    kind: "CodeCommit",
    // With the repository and branch, fileChange is told from the file at the head (GetFile).
    env: { REPOSITORY_NAME: REPO, BRANCH_NAME: "main" },
    fileChange: "unchanged",
    reads: ["ListPipelineExecutions", "ListActionExecutions", "ListActionExecutions", "GetObject", "GetFile"],
  },
  {
    kind: "CodeConnections",
    // No repository to read: a newer commit than the deployed one is all the pipeline can say.
    env: {},
    fileChange: "newer-commit-not-deployed",
    reads: ["ListPipelineExecutions", "ListActionExecutions", "ListActionExecutions", "GetObject"],
  },
];

for (const source of SOURCES) {
  describe(`drift check against moto, ${source.kind} source: compares LIVE with the definition the pipeline last deployed`, function () {
    this.timeout(60_000);
    let moto: MotoServer;
    let production: AccountWorld;
    const env = () => ({ PIPELINE_NAME: PIPELINE, ACTION_NAME: ACTION, RECONCILER_ROLE_ARN: RECONCILER_ROLE, ...source.env });

    before(async () => {
      moto = await startMoto();
      production = await seedWorld(moto, source.kind);
      if (source.kind === "CodeCommit") {
        await moto.putCodeCommitFile({ repositoryName: REPO, commitSpecifier: "main", filePath: "lambdas.json", content: DEPLOYED });
      }
    });
    useEnvironment(() => ({
      ...motoEnv(moto),
      AWS_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: production.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: production.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: production.credentials.sessionToken ?? "",
    }));
    after(async () => {
      production?.lambda.destroy();
      await moto?.stop();
    });

    it("reports the function moved by hand with its actor, keeps the one in sync quiet, and writes nothing to Lambda", async () => {
      await moto.resetCalls();
      const now = new Date();
      const result = await runDriftCheck({ ...defaultDriftDeps(), env: env(), logger: silentLogger, now: () => now });

      expect(result.kind, JSON.stringify(result)).to.equal("checked");
      if (result.kind !== "checked") return;
      // Compared with the last run of Reconcile (exec-2, commit c2), not the older one nor the newest execution.
      expect(result.detail.deployed).to.deep.include({
        pipelineExecutionId: "exec-2",
        status: "Succeeded",
        sourceAction: "Source",
        revision: "c2",
        latestRevision: "c3",
      });
      expect(result.detail.functions).to.equal(3);
      expect(result.detail.drifted.map((d) => [d.name, d.actual.functionVersion, d.expected.functionVersion, d.fileChange])).to.deep.equal([
        ["team-a-orders", "1", "2", source.fileChange],
      ]);
      expect(result.detail.drifted[0]!.changedBy?.text).to.equal("alice moved LIVE to 1.4.0 (v1) at 2026-11-30 14:02 UTC from the console");
      expect(result.verdicts["team-a-api"]).to.deep.equal({ kind: "in-sync" });
      expect(result.detail.unknown).to.deep.equal(["team-a-search"]);

      const calls = await moto.calls();
      expect(describeCalls(mutatingCalls(calls).filter((c) => c.service === "lambda"))).to.deep.equal([]);
      const reads = new Set(["ListPipelineExecutions", "ListActionExecutions", "GetObject", "GetFile"]);
      expect(calls.filter((c) => reads.has(c.operation)).map((c) => c.operation)).to.deep.equal(source.reads);
      expect(calls.filter((c) => c.operation === "LookupEvents").map((c) => c.status)).to.deep.equal([200]);
      expect(calls.filter((c) => c.operation === "PutEvents" || c.target?.endsWith("PutEvents")).map((c) => c.status)).to.deep.equal([200]);

      const cloudwatch = new CloudWatchClient(production.clientConfig);
      try {
        const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: "LambdaGitops", MetricName: "DriftedFunctions" }));
        expect(listed.Metrics?.map((m) => m.Dimensions)).to.deep.equal([[{ Name: "Pipeline", Value: PIPELINE }]]);
        const data = await cloudwatch.send(
          new GetMetricDataCommand({
            StartTime: new Date(now.getTime() - 600_000),
            EndTime: new Date(now.getTime() + 600_000),
            MetricDataQueries: [
              {
                Id: "drifted",
                MetricStat: {
                  Metric: { Namespace: "LambdaGitops", MetricName: "DriftedFunctions", Dimensions: [{ Name: "Pipeline", Value: PIPELINE }] },
                  Period: 60,
                  Stat: "Maximum",
                },
              },
            ],
          }),
        );
        expect(data.MetricDataResults?.[0]?.Values).to.deep.equal([1]);
      } finally {
        cloudwatch.destroy();
      }
    });

    it("after the file wins again (LIVE as written), nothing drifts and CloudTrail is not asked", async () => {
      await production.lambda.send(new UpdateAliasCommand({ FunctionName: "team-a-orders", Name: "LIVE", FunctionVersion: "2" }));
      await moto.resetCalls();
      const result = await runDriftCheck({ ...defaultDriftDeps(), env: env(), logger: silentLogger, now: () => new Date() });
      expect(result.kind === "checked" && result.detail.drifted).to.deep.equal([]);
      expect(result.kind === "checked" && result.verdicts["team-a-orders"]).to.deep.equal({ kind: "in-sync" });
      expect((await moto.calls()).filter((c) => c.operation === "LookupEvents")).to.have.length(0);
    });
  });
}
