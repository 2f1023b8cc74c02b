/**
 * The CodePipeline handler with a two-Region definition: the reconciler in us-east-1 (moto's
 * Region, the handler's AWS_REGION) reconciles only us-east-1's entries, says which entries it left
 * to the reconciler in eu-west-1, and never calls eu-west-1 (moto's call log records the SigV4
 * Region of every request).
 */
import { expect } from "chai";
import { MOTO_REGION, type MotoServer, startMoto } from "../support/moto.ts";
import {
  createArtifactBucket,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  putSourceArtifact,
  readAlias,
  repositoryFiles,
  type Scenario,
  seedScenario,
  startPipelineJob,
} from "../support/scenario.ts";
import { assumeInto, PRODUCTION } from "../support/seed.ts";

const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;

describe("CodePipeline handler against moto: a two-Region definition", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let scenario: Scenario;
  const runs = {} as Record<"both" | "elsewhere", HandlerRun>;

  before(async function () {
    this.timeout(150_000);
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    scenario = await seedScenario(moto, ["promote", "rollback"]);
    const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    await createArtifactBucket(scenario.production, BUCKET);
    const promote = scenario.byKind("promote");
    const rollback = scenario.byKind("rollback");
    const q = JSON.stringify;
    const both = [
      "{",
      `  "regions": ["${MOTO_REGION}", "eu-west-1"],`,
      '  "lambdas": [',
      `    { "name": ${q(promote.name)}, "version": ${q(promote.desired.version)} },`,
      `    { "name": ${q(rollback.name)}, "version": ${q(rollback.desired.version)} },`,
      '    { "name": "team-a-eu-only", "version": "1.0.0", "regions": ["eu-west-1"] }',
      "  ]",
      "}",
      "",
    ].join("\n");
    const elsewhere = '{ "regions": ["eu-west-1"], "lambdas": [ { "name": "team-a-eu-only", "version": "1.0.0" } ] }\n';
    await putSourceArtifact(scenario.production, BUCKET, "pipeline/SourceOutput/Rg2both", repositoryFiles(both));
    await putSourceArtifact(scenario.production, BUCKET, "pipeline/SourceOutput/Rg1else", repositoryFiles(elsewhere));
    const job = (objectKey: string) =>
      startPipelineJob(moto, {
        jobId: crypto.randomUUID(),
        accountId: PRODUCTION,
        bucket: BUCKET,
        objectKey,
        artifactCredentials,
        revision: "r3g10n5",
      });
    const credentials = scenario.production.credentials;
    runs.both = await invokeHandler(moto, await job("pipeline/SourceOutput/Rg2both"), credentials);
    runs.elsewhere = await invokeHandler(moto, await job("pipeline/SourceOutput/Rg1else"), credentials);
  });

  after(async () => {
    scenario?.destroy();
    await moto?.stop();
  });

  const explain = (run: HandlerRun) => `exit ${run.code}\nstderr:\n${run.stderr}\njob results: ${JSON.stringify(run.jobResults)}`;

  function successSummary(run: HandlerRun): string {
    expect(run.jobResults, explain(run)).to.have.length(1);
    const [result] = run.jobResults;
    expect(result!.operation, explain(run)).to.equal("PutJobSuccessResult");
    return String((result!.body.executionDetails as Record<string, unknown>).summary);
  }

  it("reconciles its own Region's entries and names the entries it left to eu-west-1", async () => {
    const summary = successSummary(runs.both);
    expect(summary).to.match(/^3 functions in eu-west-1 are left to the reconciler there\. 2 function\(s\)/);
    for (const kind of ["promote", "rollback"] as const) {
      const f = scenario.byKind(kind);
      expect(await readAlias(scenario.production, f.name, "LIVE"), f.story).to.deep.equal(f.liveAfterApply);
    }
  });

  it("a file with no entry for its Region succeeds with that note", () => {
    expect(successSummary(runs.elsewhere)).to.equal(
      "1 function in eu-west-1 is left to the reconciler there. 0 function(s): no functions. Nothing changed.",
    );
  });

  it("never calls another Region", () => {
    for (const run of [runs.both, runs.elsewhere]) {
      const regions = new Set(run.calls.map((c) => c.region).filter((r) => r !== null));
      expect([...regions]).to.deep.equal([MOTO_REGION]);
    }
    expect(runs.both.calls.some((c) => c.service === "lambda" && c.operation === "UpdateAlias")).to.equal(true);
  });
});
