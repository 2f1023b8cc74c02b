/**
 * The scheduled drift check's real entry point (runDriftCheck with its default, real SDK clients)
 * end to end over HTTP: Lambda, STS, IAM, CodePipeline (GetPipeline), CloudWatch and EventBridge
 * are moto; CodeCommit GetFile is the launcher's stand-in. moto has no CloudTrail LookupEvents, so
 * CloudTrail is answered at the SDK boundary (aws-sdk-client-mock).
 *
 * Production holds three functions whose LIVE alias carries the marker the reconciler writes:
 * team-a-orders (LIVE then moved by hand, 1.5.0 -> 1.4.0), team-a-api (as written) and
 * team-a-search (LIVE without a marker: drift cannot be told).
 */
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { CreateAliasCommand, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createTrailReader } from "../../reconciler/aws/cloudtrail.ts";
import { silentLogger } from "../../reconciler/core/log.ts";
import { defaultDriftDeps, runDriftCheck } from "../../reconciler/entry/drift.ts";
import { encodeMarker } from "../../reconciler/observe/marker.ts";
import { type MotoServer, motoEnv, startMoto } from "../support/moto.ts";
import { describeCalls, mutatingCalls } from "../support/scenario.ts";
import { createReconcilePipeline } from "../support/pipeline.ts";
import { type AccountWorld, account, PRODUCTION, seedFunction } from "../support/seed.ts";

const REPO = "lambda-definitions";
const PIPELINE = "lambda-gitops";
const ACTION = "Reconcile";
const RECONCILER_ROLE = `arn:aws:iam::${PRODUCTION}:role/lambda-gitops-reconciler`;

describe("drift check against moto: LIVE moved by hand is reported with who moved it", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let production: AccountWorld;
  // moto has no LookupEvents: the drift check's own CloudTrail client, mocked at the SDK boundary.
  const cloudTrail = new CloudTrailClient({ region: "us-east-1" });
  const trail = mockClient(cloudTrail);
  const deps = () => ({ ...defaultDriftDeps(), trail: createTrailReader(cloudTrail, { minIntervalMs: 0 }) });
  const savedEnv: Record<string, string | undefined> = {};

  before(async () => {
    moto = await startMoto();
    production = await account(moto, PRODUCTION);
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
      userParameters: { allowedPrefixes: ["team-a-"], definitionFile: "lambdas.json" },
    });
    await moto.putCodeCommitFile({
      repositoryName: REPO,
      commitSpecifier: "main",
      filePath: "lambdas.json",
      content: JSON.stringify({
        lambdas: [
          { name: "team-a-orders", version: "1.5.0" },
          { name: "team-a-api", version: "2.0.0" },
          { name: "team-a-search", version: "1.0.0" },
        ],
      }),
    });
    const { credentials } = production;
    for (const [key, value] of Object.entries({
      ...motoEnv(moto),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken ?? "",
    })) {
      savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
  });

  after(async () => {
    trail.restore();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    production?.lambda.destroy();
    await moto?.stop();
  });

  const env = {
    PIPELINE_NAME: PIPELINE,
    ACTION_NAME: ACTION,
    REPOSITORY_NAME: REPO,
    BRANCH_NAME: "main",
    RECONCILER_ROLE_ARN: RECONCILER_ROLE,
  };

  it("reports the drifted function with its actor, publishes the metric and the event, and writes nothing to Lambda", async () => {
    trail.on(LookupEventsCommand).resolves({
      Events: [
        {
          EventName: "UpdateAlias20150331",
          EventTime: new Date("2026-11-30T14:02:00Z"),
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
    });
    await moto.resetCalls();
    const now = new Date();
    const result = await runDriftCheck({ ...deps(), env, logger: silentLogger, now: () => now });

    expect(result.kind).to.equal("checked");
    if (result.kind !== "checked") return;
    expect(result.detail.drifted.map((d) => [d.name, d.actual.functionVersion, d.expected.functionVersion])).to.deep.equal([
      ["team-a-orders", "1", "2"],
    ]);
    expect(result.detail.drifted[0]!.changedBy?.text).to.equal(
      "alice moved LIVE to 1.4.0 (v1) at 2026-11-30 14:02 UTC from the console",
    );
    expect(result.verdicts["team-a-api"]).to.deep.equal({ kind: "in-sync" });
    expect(result.detail.unknown).to.deep.equal(["team-a-search"]);
    // CloudTrail only for the drifted function, by ResourceName.
    expect(trail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input.LookupAttributes)).to.deep.equal([
      [{ AttributeKey: "ResourceName", AttributeValue: "team-a-orders" }],
    ]);

    const calls = await moto.calls();
    expect(describeCalls(mutatingCalls(calls).filter((c) => c.service === "lambda"))).to.deep.equal([]);
    expect(calls.filter((c) => c.operation === "PutEvents" || c.target?.endsWith("PutEvents")).map((c) => c.status)).to.deep.equal([200]);

    const cloudwatch = new CloudWatchClient(production.clientConfig);
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
    cloudwatch.destroy();
  });

  it("after the file wins again (LIVE as written), nothing drifts and CloudTrail is not asked", async () => {
    trail.reset();
    await production.lambda.send(new UpdateAliasCommand({ FunctionName: "team-a-orders", Name: "LIVE", FunctionVersion: "2" }));
    const result = await runDriftCheck({ ...deps(), env, logger: silentLogger, now: () => new Date() });
    expect(result.kind === "checked" && result.detail.drifted).to.deep.equal([]);
    expect(trail.commandCalls(LookupEventsCommand)).to.have.length(0);
  });
});
