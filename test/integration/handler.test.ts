/**
 * The CodePipeline handler end to end: the built `dist/handler.mjs` is imported in a child process
 * that acts as the PRODUCTION account (its assumed-role credentials, moto's endpoint, path-style S3),
 * and invoked with real CodePipeline job events. The repository zip (with lambdas.json) sits in an
 * artifact bucket in PRODUCTION and is read with the job's own artifact credentials; promotions read
 * STAGING through the source role. Job results are what moto's launcher recorded.
 *
 * One world, four pipeline runs in order (each run's calls and job results are recorded in `before`):
 *   1. denied    a commit that also names a function outside the allowed prefix -> failure, no change
 *   2. deploy    noop + rollback + rollforward + promote                         -> success
 *   3. re-run    the same commit again (new job id)                              -> success, no change
 *   4. missing   the commit plus a version that exists nowhere                   -> failure naming it
 */
import { expect } from "chai";
import { type JobResultRecord, type MotoServer, startMoto } from "../support/moto.ts";
import {
  type CaseKind,
  codePipelineJobEvent,
  startPipelineJob,
  userParameters,
  createArtifactBucket,
  describeCalls,
  downloadCode,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  lambdasJsonOf,
  mutatingCalls,
  putSourceArtifact,
  readAlias,
  repositoryFiles,
  type Scenario,
  seedScenario,
  sha256Hex,
} from "../support/scenario.ts";
import {
  assumeInto,
  type Credentials,
  PRODUCTION,
  STAGING,
  seedFunction,
  versionAlias,
} from "../support/seed.ts";

const CASES: readonly CaseKind[] = ["noop", "rollback", "rollforward", "promote", "version-missing"];
const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
const FOREIGN = "team-b-billing";

describe("CodePipeline handler (dist/handler.mjs) against moto: staging -> production", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let scenario: Scenario;
  const runs = {} as Record<"denied" | "deploy" | "rerun" | "missing", HandlerRun>;

  before(async function () {
    this.timeout(150_000); // a cold `npm run build` on a slow machine
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    scenario = await seedScenario(moto, CASES);
    await seedFunction(scenario.production, {
      name: FOREIGN,
      versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
      live: "1.0.0",
    });
    // CodePipeline hands the action short-lived credentials scoped to its artifact bucket.
    const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    await createArtifactBucket(scenario.production, BUCKET);

    const deployable = scenario.functions.filter((f) => f.expectedPlan.action !== "blocked");
    const commits = {
      denied: lambdasJsonOf([...deployable, { name: FOREIGN, desired: { version: "1.1.0" } }]),
      deploy: scenario.convergentJson,
      missing: scenario.lambdasJson,
    };
    const keys = {
      denied: "pipeline/SourceOutput/Dn13dQx",
      deploy: "pipeline/SourceOutput/AbC12xy",
      missing: "pipeline/SourceOutput/Ms5ngVr",
    };
    for (const name of ["denied", "deploy", "missing"] as const) {
      await putSourceArtifact(scenario.production, BUCKET, keys[name], repositoryFiles(commits[name]));
    }
    const job = (key: string, revision: string) =>
      startPipelineJob(moto, {
        jobId: crypto.randomUUID(),
        accountId: PRODUCTION,
        bucket: BUCKET,
        objectKey: key,
        artifactCredentials,
        revision,
      });
    const credentials: Credentials = scenario.production.credentials;
    runs.denied = await invokeHandler(moto, await job(keys.denied, "d3n13d0"), credentials);
    runs.deploy = await invokeHandler(moto, await job(keys.deploy, "abc123"), credentials);
    runs.rerun = await invokeHandler(moto, await job(keys.deploy, "abc123"), credentials);
    runs.missing = await invokeHandler(moto, await job(keys.missing, "m1551ng"), credentials);
  });

  after(async () => {
    scenario?.destroy();
    await moto?.stop();
  });

  const explain = (run: HandlerRun) =>
    `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}\njob results: ${JSON.stringify(run.jobResults)}`;

  /** The run's only job result (asserting there is exactly one, for this job, from this invocation). */
  function onlyResult(run: HandlerRun): JobResultRecord {
    expect(run.code, explain(run)).to.equal(0);
    expect(run.jobResults, explain(run)).to.have.length(1);
    const [result] = run.jobResults;
    expect(result!.jobId).to.equal(run.jobId);
    return result!;
  }

  function failureMessage(run: HandlerRun): string {
    const result = onlyResult(run);
    expect(result.operation, explain(run)).to.equal("PutJobFailureResult");
    const details = result.body.failureDetails as Record<string, unknown>;
    expect(details.type).to.equal("JobFailed");
    expect(details.externalExecutionId).to.equal(run.requestId);
    return String(details.message);
  }

  const fn = (kind: CaseKind) => scenario.byKind(kind);

  it("refuses a commit naming a function outside the allowed prefixes: failure, nothing changed", async () => {
    const run = runs.denied;
    const message = failureMessage(run);
    expect(message).to.include("lambdas.json is invalid; nothing was changed:");
    expect(message).to.include(`function "${FOREIGN}" is outside the allowed prefixes ("team-a-")`);
    expect(describeCalls(mutatingCalls(run.calls))).to.deep.equal([]);
    // The policy stops the run before any Lambda or STS call: it read the artifact and reported.
    expect(run.calls.map((c) => `${c.account} ${c.service}:${c.operation}`)).to.deep.equal([
      `${PRODUCTION} codepipeline:GetJobDetails`,
      `${PRODUCTION} codepipeline:GetPipelineExecution`,
      `${PRODUCTION} s3:GetObject`,
      `${PRODUCTION} codepipeline:PutJobFailureResult`,
    ]);
    expect(run.calls[2]?.path).to.equal(`/${BUCKET}/pipeline/SourceOutput/Dn13dQx`);
  });

  it("deploys noop, rollback, rollforward and promote, and reports success with output variables", async () => {
    const run = runs.deploy;
    const result = onlyResult(run);
    expect(result.operation, explain(run)).to.equal("PutJobSuccessResult");
    const expectedVariables = {
      [fn("rollback").name]: fn("rollback").liveAfterApply!.functionVersion,
      [fn("rollforward").name]: fn("rollforward").liveAfterApply!.functionVersion,
      [fn("promote").name]: fn("promote").liveAfterApply!.functionVersion,
    };
    expect(result.body.outputVariables).to.deep.equal(expectedVariables);
    expect(result.body).not.to.have.property("continuationToken");
    const details = result.body.executionDetails as Record<string, unknown>;
    expect(details.externalExecutionId).to.equal(run.requestId);
    expect(details.summary).to.be.a("string").and.include("Changed:");
    for (const kind of ["rollback", "rollforward", "promote"] as const) {
      const f = fn(kind);
      expect(details.summary).to.include(
        `${f.name} -> ${f.desired.version} (v${f.liveAfterApply!.functionVersion})`,
      );
    }
    expect(details.summary).not.to.include(fn("noop").name);

    // What the handler planned, from its own log lines.
    const planned = run.logs.filter((l) => l.message === "planned").map((l) => [l.function, l.action]);
    expect(planned).to.deep.equal(
      scenario.functions
        .filter((f) => f.expectedPlan.action !== "blocked")
        .map((f) => [f.name, f.expectedPlan.action]),
    );

    for (const kind of ["noop", "rollback", "rollforward", "promote"] as const) {
      const f = fn(kind);
      expect(await readAlias(scenario.production, f.name, "LIVE"), `${f.name}: ${f.story}`).to.deep.equal(
        f.liveAfterApply,
      );
    }
  });

  it("promotes staging's exact bytes: production's new version has the same code", async () => {
    const f = fn("promote");
    const alias = versionAlias(f.desired.version);
    const fromStaging = await downloadCode(scenario.staging, f.name, alias);
    const inProduction = await downloadCode(scenario.production, f.name, "LIVE");
    expect(inProduction.functionVersion).to.equal(f.liveAfterApply!.functionVersion);
    expect(sha256Hex(inProduction.bytes)).to.equal(sha256Hex(fromStaging.bytes));
    expect(inProduction.codeSha256).to.equal(f.staging![f.desired.version]!.codeSha256);
    expect((await readAlias(scenario.production, f.name, alias))?.functionVersion).to.equal(
      inProduction.functionVersion,
    );
  });

  it("deploying writes only in production, reads staging only, and reads the artifact once", () => {
    const run = runs.deploy;
    const writes = mutatingCalls(run.calls);
    expect([...new Set(writes.map((c) => c.account))]).to.deep.equal([PRODUCTION]);
    const touched = [...new Set(writes.map((c) => c.path.split("/")[3]))].sort();
    expect(touched).to.deep.equal([fn("promote").name, fn("rollback").name, fn("rollforward").name].sort());
    const inStaging = run.calls.filter((c) => c.account === STAGING);
    expect(inStaging.length).to.be.greaterThan(0);
    expect([...new Set(inStaging.map((c) => `${c.service}:${c.operation}`))]).to.deep.equal([
      "lambda:GetFunction",
    ]);
    expect(run.calls.filter((c) => c.service === "s3").map((c) => c.operation)).to.deep.equal(["GetObject"]);
    expect(run.calls.at(-1)?.operation).to.equal("PutJobSuccessResult");
  });

  it("a re-run of the same commit changes nothing and still reports success", () => {
    const run = runs.rerun;
    const result = onlyResult(run);
    expect(result.operation, explain(run)).to.equal("PutJobSuccessResult");
    expect(describeCalls(mutatingCalls(run.calls))).to.deep.equal([]);
    expect(run.calls.filter((c) => c.account === STAGING)).to.deep.equal([]); // nothing left to promote
    const details = result.body.executionDetails as Record<string, unknown>;
    expect(details.summary).to.equal("4 function(s): 4 noop. Nothing changed.");
    expect(result.body.outputVariables).to.deep.equal({});
  });

  it("a version that exists in neither account fails the job, naming the function and the version", async () => {
    const run = runs.missing;
    const message = failureMessage(run);
    const missing = fn("version-missing");
    expect(message).to.equal(
      `1 of 5 function(s) failed: ${missing.name}: version 1.5.0 (alias "1-5-0") exists neither here nor in the source account`,
    );
    expect(describeCalls(mutatingCalls(run.calls))).to.deep.equal([]);
    // The source account was asked, through the source role, for exactly that version.
    const asked = run.calls.filter((c) => c.account === STAGING);
    expect(asked.map((c) => `${c.operation} ${c.path.split("/")[3]}?${c.query}`)).to.deep.equal([
      `GetFunction ${missing.name}?Qualifier=1-5-0`,
    ]);
    expect((await readAlias(scenario.production, missing.name, "LIVE"))?.functionVersion).to.equal(
      missing.expectedPlan.liveFunctionVersion,
    );
  });

  it("a forged event (a job CodePipeline never started) makes no call but GetJobDetails and reports nothing", async () => {
    const forged = codePipelineJobEvent({
      jobId: crypto.randomUUID(),
      accountId: PRODUCTION,
      bucket: BUCKET,
      objectKey: "pipeline/SourceOutput/AbC12xy",
      artifactCredentials: scenario.production.credentials,
      userParameters: userParameters({ allowedPrefixes: ["team-"] }),
    });
    const run = await invokeHandler(moto, forged, scenario.production.credentials);
    expect(run.code, explain(run)).to.equal(0);
    expect(run.jobResults, "nothing to report to").to.deep.equal([]);
    expect(run.calls.map((c) => `${c.service}:${c.operation}`)).to.deep.equal(["codepipeline:GetJobDetails"]);
    expect(run.logs.some((l) => l.refused === true && l.jobId === run.jobId), explain(run)).to.equal(true);
  });

  it("reports exactly one job result per invocation, in order", async () => {
    const order = [runs.denied, runs.deploy, runs.rerun, runs.missing];
    for (const run of order)
      expect(
        run.jobResults.map((r) => r.jobId),
        explain(run),
      ).to.deep.equal([run.jobId]);
    const all = await moto.jobResults();
    expect(all.map((r) => [r.jobId, r.operation])).to.deep.equal([
      [runs.denied.jobId, "PutJobFailureResult"],
      [runs.deploy.jobId, "PutJobSuccessResult"],
      [runs.rerun.jobId, "PutJobSuccessResult"],
      [runs.missing.jobId, "PutJobFailureResult"],
    ]);
    expect(new Set(order.map((r) => r.jobId)).size).to.equal(4);
  });

  it("a job of an execution stopped or superseded meanwhile changes nothing: a failure naming it (issue 20)", async () => {
    const execution = crypto.randomUUID();
    const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    const event = await startPipelineJob(moto, {
      jobId: crypto.randomUUID(),
      accountId: PRODUCTION,
      bucket: BUCKET,
      objectKey: "pipeline/SourceOutput/Ms5ngVr",
      artifactCredentials,
      revision: "m1551ng",
      pipelineExecutionId: execution,
    });
    await moto.setExecutionStatus(execution, "Superseded");
    const run = await invokeHandler(moto, event, scenario.production.credentials);
    const message = failureMessage(run);
    expect(message).to.equal(
      `lambda-gitops refused this job: pipeline execution ${execution} of lambda-gitops is Superseded, not InProgress (stopped, superseded or finished since this job was queued); nothing was changed`,
    );
    expect(run.calls.map((c) => `${c.service}:${c.operation}`)).to.deep.equal([
      "codepipeline:GetJobDetails",
      "codepipeline:GetPipelineExecution",
      "codepipeline:PutJobFailureResult",
    ]);
    const logged = run.logs.find((l) => l.executionStatus === "Superseded");
    expect(logged, explain(run)).to.deep.include({ pipelineExecutionId: execution, refused: true, jobId: run.jobId });
  });
});
