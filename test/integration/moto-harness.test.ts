/**
 * Proves the moto harness (test/support/moto.ts, moto_launcher.py, seed.ts) behaves like AWS where the
 * reconciler depends on it, through the real SDK clients over HTTP.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import {
  AcknowledgeJobCommand,
  CodePipelineClient,
  GetJobDetailsCommand,
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from "@aws-sdk/client-codepipeline";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { expect } from "chai";
import {
  MotoMissingError,
  type MotoServer,
  MUTATING_LAMBDA_OPERATIONS,
  motoEnv,
  startMoto,
} from "../support/moto.ts";
import {
  type AccountWorld,
  account,
  createSourceRole,
  PRODUCTION,
  STAGING,
  seedFunction,
  sourceRoleArn,
  versionAlias,
  zipOf,
} from "../support/seed.ts";

const sha256Base64 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("base64");

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

describe("moto harness", function () {
  this.timeout(20_000);
  let moto: MotoServer;
  let staging: AccountWorld;
  let production: AccountWorld;

  before(async () => {
    moto = await startMoto();
    staging = await account(moto, STAGING);
    production = await account(moto, PRODUCTION);
  });

  after(async () => {
    staging?.lambda.destroy();
    production?.lambda.destroy();
    await moto?.stop();
  });

  it("serves on loopback and exposes SDK-ready environment", () => {
    expect(moto.endpoint).to.equal(`http://127.0.0.1:${moto.port}`);
    const env = motoEnv(moto);
    expect(env.AWS_ENDPOINT_URL).to.equal(moto.endpoint);
    expect(env.AWS_REGION).to.equal("us-east-1");
    expect(env.AWS_ACCESS_KEY_ID).to.have.length(20);
  });

  it("points a child process's default SDK clients at moto through motoEnv()", async () => {
    const script = [
      'import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";',
      'import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";',
      "const id = await new STSClient({}).send(new GetCallerIdentityCommand({}));",
      "const fns = await new LambdaClient({}).send(new ListFunctionsCommand({}));",
      "console.log(JSON.stringify({ account: id.Account, functions: fns.Functions.length }));",
    ].join("\n");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--no-warnings", "--input-type=module", "-e", script],
      { env: { PATH: process.env.PATH ?? "", ...motoEnv(moto) } },
    );
    expect(JSON.parse(stdout)).to.deep.equal({ account: "123456789012", functions: 0 });
  });

  it("keeps accounts isolated", async () => {
    await seedFunction(staging, { name: "isolated", versions: [{ version: "1.0.0" }], live: "1.0.0" });

    const seen = await staging.lambda.send(new GetFunctionCommand({ FunctionName: "isolated" }));
    expect(seen.Configuration?.FunctionArn).to.equal(`arn:aws:lambda:us-east-1:${STAGING}:function:isolated`);
    const error = await rejection(
      production.lambda.send(new GetFunctionCommand({ FunctionName: "isolated" })),
    );
    expect(error).to.be.instanceOf(ResourceNotFoundException);
    const listed = await production.lambda.send(new ListFunctionsCommand({}));
    expect((listed.Functions ?? []).map((f) => f.FunctionName)).not.to.include("isolated");
  });

  it("seeds versions, per-version aliases and LIVE", async () => {
    const seeded = await seedFunction(staging, {
      name: "seeded",
      versions: [{ version: "1.0.0" }, { version: "1.1.0-rc.1" }, { version: "2.0.0" }],
      live: "1.1.0-rc.1",
    });
    expect(Object.values(seeded.versions).map((v) => v.functionVersion)).to.deep.equal(["1", "2", "3"]);
    const shas = Object.values(seeded.versions).map((v) => v.codeSha256);
    expect(new Set(shas).size).to.equal(3);

    const aliases = await staging.lambda.send(new ListAliasesCommand({ FunctionName: "seeded" }));
    const byName = Object.fromEntries((aliases.Aliases ?? []).map((a) => [a.Name, a.FunctionVersion]));
    expect(byName).to.deep.equal({ "1-0-0": "1", "1-1-0_rc-1": "2", "2-0-0": "3", LIVE: "2" });
    expect(versionAlias("1.2.3-beta.1")).to.equal("1-2-3_beta-1");

    await seedFunction(staging, { name: "no-live", versions: [{ version: "1.0.0" }] });
    const none = await staging.lambda.send(new ListAliasesCommand({ FunctionName: "no-live" }));
    expect((none.Aliases ?? []).map((a) => a.Name)).to.deep.equal(["1-0-0"]);
  });

  it("builds deterministic zips", () => {
    const a = zipOf({ "b.js": "2", "a.js": "1" });
    const b = zipOf({ "a.js": "1", "b.js": "2" });
    expect(sha256Base64(a)).to.equal(sha256Base64(b));
    expect(sha256Base64(a)).not.to.equal(sha256Base64(zipOf({ "a.js": "1", "b.js": "3" })));
  });

  it("serves the exact uploaded bytes at GetFunction's Code.Location, per version", async () => {
    const v1 = zipOf({ "index.js": "exports.handler = async () => 'one';\n" });
    const v2 = zipOf({ "index.js": "exports.handler = async () => 'two';\n" });
    const seeded = await seedFunction(staging, {
      name: "download-me",
      versions: [
        { version: "1.0.0", code: { "index.js": "exports.handler = async () => 'one';\n" } },
        { version: "2.0.0", code: { "index.js": "exports.handler = async () => 'two';\n" } },
      ],
      live: "1.0.0",
    });
    expect(seeded.versions["1.0.0"]!.codeSha256).to.equal(sha256Base64(v1));

    for (const [qualifier, expected] of [
      ["LIVE", v1],
      ["1", v1],
      ["2-0-0", v2],
      ["$LATEST", v2],
    ] as const) {
      const out = await staging.lambda.send(
        new GetFunctionCommand({ FunctionName: "download-me", Qualifier: qualifier }),
      );
      const location = out.Code?.Location ?? "";
      expect(location).to.match(new RegExp(`^${moto.endpoint}/_moto/code/${STAGING}/us-east-1/download-me/`));
      const response = await fetch(location);
      expect(response.status).to.equal(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(Buffer.from(bytes).equals(Buffer.from(expected)), `bytes for ${qualifier}`).to.equal(true);
      expect(sha256Base64(bytes)).to.equal(out.Configuration?.CodeSha256);
    }
    const downloads = await moto.codeDownloads();
    expect(downloads.filter((d) => d.functionName === "download-me").map((d) => d.version)).to.deep.equal([
      "1",
      "1",
      "2",
      "$LATEST",
    ]);
  });

  it("lets the target account read the source account through the source role (cross-account promotion)", async () => {
    await createSourceRole(staging);
    const sts = new STSClient(production.clientConfig);
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: sourceRoleArn(), RoleSessionName: "reconciler" }),
    );
    sts.destroy();
    const c = assumed.Credentials!;
    const source = new LambdaClient({
      ...production.clientConfig,
      credentials: {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
      },
    });
    await moto.resetCalls();
    const out = await source.send(new GetFunctionCommand({ FunctionName: "isolated", Qualifier: "LIVE" }));
    source.destroy();
    expect(out.Configuration?.FunctionArn).to.equal(
      `arn:aws:lambda:us-east-1:${STAGING}:function:isolated:1`,
    );
    const [call] = await moto.calls();
    expect(call).to.include({ service: "lambda", account: STAGING, operation: "GetFunction", status: 200 });
  });

  it("returns a RevisionId that changes with the code and is stable otherwise", async () => {
    const { lambda } = production;
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "revisions",
        Role: production.roleArn,
        Runtime: "nodejs20.x",
        Handler: "index.handler",
        Code: { ZipFile: zipOf({ "index.js": "// one\n" }) },
      }),
    );
    expect(created.RevisionId).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const before = await lambda.send(new GetFunctionCommand({ FunctionName: "revisions" }));
    expect(before.Configuration?.RevisionId).to.equal(created.RevisionId);

    const updated = await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: "revisions",
        ZipFile: zipOf({ "index.js": "// two\n" }),
      }),
    );
    expect(updated.RevisionId).to.be.a("string").and.not.equal(created.RevisionId);
    const after = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "revisions" }));
    expect(after.RevisionId).to.equal(updated.RevisionId);

    // Same bytes again: still an update (AWS bumps LastModified), so the revision moves.
    const again = await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: "revisions",
        ZipFile: zipOf({ "index.js": "// two\n" }),
      }),
    );
    expect(again.RevisionId).not.to.equal(updated.RevisionId);

    const published = await lambda.send(new PublishVersionCommand({ FunctionName: "revisions" }));
    expect(published.RevisionId).to.be.a("string").and.not.equal(again.RevisionId);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "revisions" }));
    const v1 = (versions.Versions ?? []).find((v) => v.Version === published.Version);
    expect(v1?.RevisionId).to.equal(published.RevisionId);
    for (const v of versions.Versions ?? []) expect(v.RevisionId, `version ${v.Version}`).to.be.a("string");
  });

  describe("Lambda's update window and deprecated runtimes (opt-in, as real Lambda)", () => {
    const WINDOW = 1;
    before(() => moto.lambdaBehaviour({ updateWindowSeconds: WINDOW, deprecatedRuntimes: ["nodejs12.x", "python3.6"] }));
    after(() => moto.lambdaBehaviour({}));

    const create = (name: string, runtime: string) =>
      production.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Role: production.roleArn,
          Runtime: runtime as never,
          Handler: "index.handler",
          Code: { ZipFile: zipOf({ "index.js": "// one\n" }) },
        }),
      );

    /** Polls GetFunction until $LATEST's update has settled (bounded; no timing asserted). */
    async function settled(name: string): Promise<string | undefined> {
      for (let i = 0; i < 50; i++) {
        const out = await production.lambda.send(new GetFunctionCommand({ FunctionName: name }));
        if (out.Configuration?.LastUpdateStatus !== "InProgress") return out.Configuration?.LastUpdateStatus;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return "InProgress";
    }

    it("reports InProgress after an update and refuses a second write meanwhile with ResourceConflictException", async () => {
      const { lambda } = production;
      await create("windowed", "nodejs20.x");
      const updated = await lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: "windowed", ZipFile: zipOf({ "index.js": "// two\n" }) }),
      );
      expect(updated.LastUpdateStatus).to.equal("InProgress");
      const during = await lambda.send(new GetFunctionCommand({ FunctionName: "windowed" }));
      expect(during.Configuration?.LastUpdateStatus).to.equal("InProgress");
      for (const write of [
        new UpdateFunctionConfigurationCommand({ FunctionName: "windowed", Handler: "other.handler" }),
        new PublishVersionCommand({ FunctionName: "windowed" }),
      ]) {
        const error = await rejection(lambda.send(write as never));
        expect(error.name).to.equal("ResourceConflictException");
        expect(error.$metadata?.httpStatusCode).to.equal(409);
        expect(error.message).to.equal(
          `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:${PRODUCTION}:function:windowed`,
        );
      }
      expect(await settled("windowed")).to.equal("Successful");
      const published = await lambda.send(new PublishVersionCommand({ FunctionName: "windowed" }));
      expect(published.Version).to.equal("1");
    });

    it("refuses code on a deprecated runtime, accepts moving it to a supported runtime, then accepts the code", async () => {
      const { lambda } = production;
      await create("old-runtime", "nodejs12.x");
      const refused = await rejection(
        lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "old-runtime", ZipFile: zipOf({ "index.js": "// 2\n" }) })),
      );
      expect(refused.name).to.equal("InvalidParameterValueException");
      expect(refused.$metadata?.httpStatusCode).to.equal(400);
      expect(refused.message).to.match(/^The runtime parameter of nodejs12\.x is no longer supported for creating or updating AWS Lambda functions/);
      const moved = await lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: "old-runtime", Runtime: "nodejs22.x" }),
      );
      expect(moved.Runtime).to.equal("nodejs22.x");
      expect(await settled("old-runtime")).to.equal("Successful");
      const code = await lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: "old-runtime", ZipFile: zipOf({ "index.js": "// 2\n" }) }),
      );
      expect(code.Runtime).to.equal("nodejs22.x");
    });
  });

  it("surfaces a duplicate CreateAlias as ResourceConflictException (HTTP 409)", async () => {
    await seedFunction(production, { name: "conflict", versions: [{ version: "1.0.0" }], live: "1.0.0" });
    const error = await rejection(
      production.lambda.send(
        new CreateAliasCommand({ FunctionName: "conflict", Name: "LIVE", FunctionVersion: "1" }),
      ),
    );
    expect(error).to.be.instanceOf(ResourceConflictException);
    expect(error.name).to.equal("ResourceConflictException");
    expect(error.$metadata?.httpStatusCode).to.equal(409);
    expect(error.message).to.include("Alias already exists");
  });

  it("records Lambda calls with account and operation names", async () => {
    await seedFunction(production, {
      name: "logged",
      versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
    });
    await moto.resetCalls();
    const { lambda } = production;
    await lambda.send(new CreateAliasCommand({ FunctionName: "logged", Name: "LIVE", FunctionVersion: "1" }));
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: "logged", Name: "LIVE" }));
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: "logged",
        Name: "LIVE",
        FunctionVersion: "2",
        RevisionId: alias.RevisionId,
      }),
    );
    await lambda.send(new ListAliasesCommand({ FunctionName: "logged" }));
    await lambda.send(new GetFunctionCommand({ FunctionName: "logged", Qualifier: "$LATEST" }));
    await staging.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "isolated" }));

    const calls = await moto.calls();
    expect(calls.map((c) => [c.account, c.operation, c.status])).to.deep.equal([
      [PRODUCTION, "CreateAlias", 201],
      [PRODUCTION, "GetAlias", 201], // moto answers 201 where AWS answers 200
      [PRODUCTION, "UpdateAlias", 201],
      [PRODUCTION, "ListAliases", 200],
      [PRODUCTION, "GetFunction", 200],
      [STAGING, "ListVersionsByFunction", 200],
    ]);
    expect(calls[2]).to.include({
      method: "PUT",
      path: "/2015-03-31/functions/logged/aliases/LIVE",
      service: "lambda",
      target: null,
    });
    expect(calls[4]?.query).to.equal("Qualifier=%24LATEST");
    const mutating = calls.filter(
      (c) => c.service === "lambda" && MUTATING_LAMBDA_OPERATIONS.has(c.operation),
    );
    expect(mutating.map((c) => c.operation)).to.deep.equal(["CreateAlias", "UpdateAlias"]);
  });

  describe("CodePipeline job results", () => {
    const pipeline = (maxAttempts: number) =>
      new CodePipelineClient({ ...production.clientConfig, maxAttempts });

    it("records PutJobSuccessResult and PutJobFailureResult in order", async () => {
      await moto.resetCalls();
      const client = pipeline(1);
      await client.send(
        new PutJobSuccessResultCommand({ jobId: "job-ok", outputVariables: { promoted: "orders@1.2.3" } }),
      );
      await client.send(
        new PutJobFailureResultCommand({
          jobId: "job-bad",
          failureDetails: { type: "JobFailed", message: "orders: version 9.9.9 not found" },
        }),
      );
      client.destroy();
      const results = await moto.jobResults();
      expect(results.slice(-2)).to.deep.equal([
        {
          operation: "PutJobSuccessResult",
          jobId: "job-ok",
          body: { jobId: "job-ok", outputVariables: { promoted: "orders@1.2.3" } },
        },
        {
          operation: "PutJobFailureResult",
          jobId: "job-bad",
          body: {
            jobId: "job-bad",
            failureDetails: { type: "JobFailed", message: "orders: version 9.9.9 not found" },
          },
        },
      ]);
      const calls = await moto.calls();
      expect(calls.map((c) => [c.service, c.operation, c.target, c.account])).to.deep.equal([
        ["codepipeline", "PutJobSuccessResult", "CodePipeline_20150709.PutJobSuccessResult", PRODUCTION],
        ["codepipeline", "PutJobFailureResult", "CodePipeline_20150709.PutJobFailureResult", PRODUCTION],
      ]);
    });

    it("answers GetJobDetails with the defined job data and AcknowledgeJob as InProgress", async () => {
      await moto.defineJob("job-details", {
        actionConfiguration: { configuration: { UserParameters: '{"definition":"lambdas.json"}' } },
      });
      const client = pipeline(1);
      const details = await client.send(new GetJobDetailsCommand({ jobId: "job-details" }));
      const ack = await client.send(new AcknowledgeJobCommand({ jobId: "job-details", nonce: "1" }));
      client.destroy();
      expect(details.jobDetails?.id).to.equal("job-details");
      expect(details.jobDetails?.accountId).to.equal(PRODUCTION);
      expect(details.jobDetails?.data?.actionConfiguration?.configuration?.UserParameters).to.equal(
        '{"definition":"lambdas.json"}',
      );
      expect(ack.status).to.equal("InProgress");
    });

    it("answers GetJobDetails for a job it never started with JobNotFoundException, as CodePipeline does", async () => {
      const client = pipeline(1);
      const error = await rejection(client.send(new GetJobDetailsCommand({ jobId: "never-started" })));
      client.destroy();
      expect(error.name).to.equal("JobNotFoundException");
      expect(error.$metadata?.httpStatusCode).to.equal(400);
    });

    it("answers GetPipelineExecution (moto has none): a defined job's execution is InProgress until a test stops it", async () => {
      const execution = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
      await moto.defineJob("job-with-execution", { pipelineContext: { pipelineName: "p", pipelineExecutionId: execution } });
      const client = pipeline(1);
      const ask = () => client.send(new GetPipelineExecutionCommand({ pipelineName: "p", pipelineExecutionId: execution }));
      expect((await ask()).pipelineExecution?.status).to.equal("InProgress");
      await moto.setExecutionStatus(execution, "Superseded");
      expect((await ask()).pipelineExecution?.status).to.equal("Superseded");
      const unknown = await rejection(
        client.send(new GetPipelineExecutionCommand({ pipelineName: "p", pipelineExecutionId: "00000000-0000-4000-8000-000000000000" })),
      );
      client.destroy();
      expect(unknown.name).to.equal("PipelineExecutionNotFoundException");
    });

    it("fails the next N job-result calls with HTTP 500 when asked", async () => {
      const before = (await moto.jobResults()).length;
      await moto.failNextJobResults(1);
      const noRetry = pipeline(1);
      const error = await rejection(noRetry.send(new PutJobSuccessResultCommand({ jobId: "job-500" })));
      expect(error.$metadata?.httpStatusCode).to.equal(500);
      expect(error.name).to.equal("InternalServerError");
      await noRetry.send(new PutJobSuccessResultCommand({ jobId: "job-500" }));
      noRetry.destroy();

      await moto.failNextJobResults(1);
      await moto.resetCalls();
      const retrying = pipeline(2);
      await retrying.send(new PutJobSuccessResultCommand({ jobId: "job-retried" }));
      retrying.destroy();
      expect((await moto.calls()).map((c) => c.status)).to.deep.equal([500, 200]);

      const results = await moto.jobResults();
      expect(results.slice(before).map((r) => r.jobId)).to.deep.equal(["job-500", "job-retried"]);
    });
  });

  it("rejects with MotoMissingError and install instructions when python is missing", async () => {
    const error = await rejection(startMoto({ python: "/nonexistent/python3" }));
    expect(error).to.be.instanceOf(MotoMissingError);
    expect(error.message).to.include('pip install "moto[server]"');
  });

  // Last: it wipes the accounts the other tests use (mocha runs nested suites after the parent's tests).
  describe("reset", () => {
    it("resetAll wipes moto state and the logs", async () => {
      await moto.resetAll();
      expect(await moto.calls()).to.deep.equal([]);
      expect(await moto.jobResults()).to.deep.equal([]);
      expect(await moto.codeDownloads()).to.deep.equal([]);
      const world = await account(moto, STAGING);
      const listed = await world.lambda.send(new ListFunctionsCommand({}));
      world.lambda.destroy();
      expect(listed.Functions ?? []).to.deep.equal([]);
    });
  });
});
