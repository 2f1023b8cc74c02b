/**
 * `npm run package` yields a Lambda zip whose handlers load and run under Node with nothing else
 * beside them: the zip is extracted into an empty temporary folder (no node_modules anywhere up
 * the tree), every handler a template in infra/ deploys from the zip is imported from there, and
 * the reconciler's handler runs a real CodePipeline job against moto. CI runs this file on the
 * machine's Node and on Node 22, the runtime the templates deploy (.ci/run).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { unzipSync } from "fflate";
import { UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { createReconcilePipeline, pipelineHistoryOf } from "../support/pipeline.ts";
import {
  startPipelineJob,
  createArtifactBucket,
  putSourceArtifact,
  reconcilerEnv,
  repositoryFiles,
  runNode,
  type Scenario,
  seedScenario,
  userParameters,
} from "../support/scenario.ts";
import { PRODUCTION } from "../support/seed.ts";
import { packagedFunctions } from "../support/infra-templates.ts";

const run = promisify(execFile);

const RUNNER = `
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { event } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const { handler } = await import("./handler.mjs");
await handler(event, { awsRequestId: "req-package", getRemainingTimeInMillis: () => 600_000 });
`;

const DRIFT_RUNNER = `
const { handler } = await import("./drift.mjs");
const result = await handler({}, { awsRequestId: "req-drift", getRemainingTimeInMillis: () => 300_000 });
console.log(JSON.stringify({ driftResult: result }));
`;

describe("the Lambda package (npm run package)", function () {
  this.timeout(180_000);
  let moto: MotoServer;
  let dir: string;
  let scenario: Scenario;
  let entries: string[];

  before(async () => {
    // The Node running this test builds the package too (CI runs this file on Node 22 as well).
    await run(process.execPath, ["scripts/package.mjs"], { maxBuffer: 16 * 1024 * 1024 });
    const zip = unzipSync(new Uint8Array(await readFile("dist/lambda-gitops.zip")));
    entries = Object.keys(zip).sort();
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-package-"));
    for (const [name, bytes] of Object.entries(zip)) await writeFile(join(dir, name), bytes);
    moto = await startMoto();
    scenario = await seedScenario(moto, ["noop", "rollback", "promote"]);
  });
  after(async () => {
    scenario?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds the bundled, minified entry points and their source maps, nothing else", async () => {
    expect(entries).to.deep.equal([
      "drift.mjs",
      "drift.mjs.map",
      "handler.mjs",
      "handler.mjs.map",
      "pr-plan.mjs",
      "pr-plan.mjs.map",
    ]);
    const handler = await readFile(join(dir, "handler.mjs"), "utf8");
    expect(handler).to.not.match(/from\s*["'](?!node:)[@a-z]/); // no bare imports left to resolve
  });

  it("holds every handler a template deploys from it: the module loads from the zip alone and exports a function", async () => {
    const functions = packagedFunctions();
    // The three lambda-gitops functions, each from its own template: the check cannot pass on none.
    expect(functions.map((f) => `${f.file}: ${f.handler}`)).to.deep.equal([
      "drift.yaml: drift.handler",
      "pr-plan.yaml: pr-plan.handler",
      "reconciler.yaml: handler.handler",
    ]);
    for (const { file, handler } of functions) {
      const dot = handler.lastIndexOf(".");
      const module = `${handler.slice(0, dot)}.mjs`;
      const exported = handler.slice(dot + 1);
      expect(entries, `${file}: Handler ${handler}`).to.include(module);
      // A fresh Node per module, as Lambda's runtime would load it: `import` from the zip's folder.
      const result = await runNode(
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(`./${module}`)}); process.stdout.write(typeof m[${JSON.stringify(exported)}]);`,
        ],
        { cwd: dir, env: { PATH: process.env.PATH ?? "", NODE_PATH: "", AWS_REGION: "eu-west-1" }, timeoutMs: 60_000 },
      );
      expect(result.code, `${file}: ${handler}: ${result.stderr}`).to.equal(0);
      expect(result.stdout, `${file}: ${handler}`).to.equal("function");
    }
  });

  it("runs a real CodePipeline job from an empty folder and reports one job result", async () => {
    const bucket = "codepipeline-artifacts-package-test";
    const key = "pipeline/SourceOutput/Pkg0001";
    await createArtifactBucket(scenario.production, bucket);
    await putSourceArtifact(scenario.production, bucket, key, repositoryFiles(scenario.convergentJson));
    const jobId = "8a1f7b9e-3c2d-4e5f-9a8b-7c6d5e4f3a2b";
    const event = await startPipelineJob(moto, {
      jobId,
      accountId: PRODUCTION,
      bucket,
      objectKey: key,
      artifactCredentials: scenario.production.credentials,
      userParameters: userParameters(),
    });
    const result = await runNode(["--input-type=module", "-e", RUNNER], {
      cwd: dir,
      env: { ...reconcilerEnv(moto, scenario.production.credentials), LOG_LEVEL: "info", NODE_PATH: "" },
      input: JSON.stringify({ event }),
      timeoutMs: 90_000,
    });
    expect(result.code, result.stderr).to.equal(0);
    const results = (await moto.jobResults()).filter((r) => r.jobId === jobId);
    expect(
      results.map((r) => r.operation),
      JSON.stringify(results),
    ).to.deep.equal(["PutJobSuccessResult"]);
    const summary = (results[0]?.body.executionDetails as { summary?: string } | undefined)?.summary ?? "";
    expect(summary)
      .to.match(/^3 function\(s\): /)
      .and.match(/Changed: /);
    expect(
      result.stdout
        .split("\n")
        .filter(Boolean)
        .every((line) => JSON.parse(line).jobId === jobId),
    ).to.equal(true);
  });

  it("runs the drift check (drift.mjs) from the same folder against the definition that job deployed", async () => {
    // The job above deployed this artifact; the pipeline's history says so (a CodeConnections source).
    const bucket = "codepipeline-artifacts-package-test";
    const key = "pipeline/SourceOutput/Pkg0001";
    const parameters = JSON.parse(userParameters()) as Record<string, unknown>;
    await createReconcilePipeline(scenario.production.clientConfig, {
      name: "lambda-gitops",
      action: "Reconcile",
      repository: "definitions",
      userParameters: parameters,
      source: "CodeConnections",
    });
    await moto.definePipelineHistory(
      pipelineHistoryOf("lambda-gitops", { kind: "CodeConnections", repository: "definitions", action: "Reconcile", userParameters: parameters, account: PRODUCTION }, [
        {
          pipelineExecutionId: "exec-1",
          startTime: new Date("2026-12-01T09:00:00Z"),
          status: "Succeeded",
          revision: "c1",
          reconcile: { status: "Succeeded", bucket, key },
        },
      ]),
    );
    // Someone moves the rolled-back function's LIVE by hand; the promoted one stays as the job wrote it.
    const moved = scenario.byKind("rollback");
    const other = Object.values(moved.production ?? {}).find((v) => v.functionVersion !== moved.liveAfterApply?.functionVersion);
    await scenario.production.lambda.send(
      new UpdateAliasCommand({ FunctionName: moved.name, Name: "LIVE", FunctionVersion: other!.functionVersion }),
    );

    const result = await runNode(["--input-type=module", "-e", DRIFT_RUNNER], {
      cwd: dir,
      env: {
        ...reconcilerEnv(moto, scenario.production.credentials),
        PIPELINE_NAME: "lambda-gitops",
        ACTION_NAME: "Reconcile",
        LOG_LEVEL: "info",
        NODE_PATH: "",
      },
      timeoutMs: 90_000,
    });
    expect(result.code, result.stderr).to.equal(0);
    const line = result.stdout.split("\n").find((l) => l.startsWith('{"driftResult"'));
    const drift = (JSON.parse(line ?? "{}") as { driftResult?: { kind: string; detail?: { drifted: { name: string }[]; deployed: { pipelineExecutionId: string } }; verdicts?: Record<string, { kind: string }> } }).driftResult;
    expect(drift?.kind, result.stdout).to.equal("checked");
    expect(drift?.detail?.deployed.pipelineExecutionId).to.equal("exec-1");
    expect(drift?.detail?.drifted.map((d) => d.name)).to.deep.equal([moved.name]);
    expect(drift?.verdicts?.[scenario.byKind("promote").name]).to.deep.equal({ kind: "in-sync" });
  });
});
