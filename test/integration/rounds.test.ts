/**
 * Issue 26 against moto, through the built handler (dist/handler.mjs) in a child process: a blocked
 * function must never drop the ones not yet started. Concurrency 1 and a deadline that leaves time
 * for one function per round (getRemainingTimeInMillis answers 900 s once, then 60 s: under the
 * 120 s start reserve), nine functions: one blocked (its version exists nowhere, it sorts first),
 * eight rollbacks. Every round hands over with a continuation token saying how many are left and
 * that one failed so far; the eight converge over eight rounds; the last round's result is a
 * failure naming the blocked function, and only it.
 */
import { expect } from "chai";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  createArtifactBucket,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  putSourceArtifact,
  readAlias,
  repositoryFiles,
  startPipelineJob,
  userParameters,
} from "../support/scenario.ts";
import { type AccountWorld, account, assumeInto, PRODUCTION, seedFunction } from "../support/seed.ts";

const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
const KEY = "pipeline/SourceOutput/R0unds1";
const BLOCKED = "team-a-aaa-missing";
const ROLLBACKS = Array.from({ length: 8 }, (_, i) => `team-a-fn-${i}`);

describe("rounds against moto: a blocked function never drops the ones not yet started (issue 26)", function () {
  this.timeout(240_000);
  let moto: MotoServer;
  let world: AccountWorld;
  const runs: HandlerRun[] = [];
  const before10: Record<string, string> = {};

  before(async function () {
    this.timeout(240_000);
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    world = await account(moto, PRODUCTION);
    await seedFunction(world, { name: BLOCKED, versions: [{ version: "1.0.0" }], live: "1.0.0" });
    for (const name of ROLLBACKS) {
      const { versions } = await seedFunction(world, {
        name,
        versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
        live: "1.1.0",
      });
      before10[name] = versions["1.0.0"]!.functionVersion;
    }
    const lambdas = [
      { name: BLOCKED, version: "1.5.0" },
      ...ROLLBACKS.map((name) => ({ name, version: "1.0.0" })),
    ];
    await createArtifactBucket(world, BUCKET);
    await putSourceArtifact(world, BUCKET, KEY, repositoryFiles(`${JSON.stringify({ lambdas }, null, 2)}\n`));
    const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");

    // CodePipeline's side of continuation: each success with a token starts a new job carrying it.
    let token: string | undefined;
    for (let round = 1; round <= 12; round++) {
      const event = await startPipelineJob(moto, {
        jobId: crypto.randomUUID(),
        accountId: PRODUCTION,
        bucket: BUCKET,
        objectKey: KEY,
        artifactCredentials,
        userParameters: userParameters({ sourceRoleArn: undefined, concurrency: 1 }),
        data: token === undefined ? {} : { continuationToken: token },
      });
      const run = await invokeHandler(moto, event, world.credentials, { remainingSequence: [900_000, 60_000] });
      runs.push(run);
      const [result] = run.jobResults;
      token = result?.body.continuationToken as string | undefined;
      if (result?.operation !== "PutJobSuccessResult" || token === undefined) break;
    }
  });

  after(async () => {
    await moto?.stop();
  });

  const explain = (run: HandlerRun | undefined) =>
    run ? `exit ${run.code}\nstderr:\n${run.stderr}\njob results: ${JSON.stringify(run.jobResults)}` : "no run";
  const summaryOf = (run: HandlerRun) =>
    String((run.jobResults[0]?.body.executionDetails as Record<string, unknown> | undefined)?.summary);

  it("hands over for seven rounds, each saying how many are left and that one failed so far", () => {
    expect(runs, explain(runs.at(-1))).to.have.length(8);
    for (const [i, run] of runs.slice(0, 7).entries()) {
      expect(run.code, explain(run)).to.equal(0);
      expect(run.jobResults.map((r) => r.operation), explain(run)).to.deep.equal(["PutJobSuccessResult"]);
      expect(summaryOf(run)).to.match(
        new RegExp(`^Round ${i + 1}: ${7 - i} function\\(s\\) left for the next round, 1 failed so far \\(named in the final result\\)\\. `),
      );
      expect(JSON.parse(String(run.jobResults[0]!.body.continuationToken))).to.deep.include({ v: 1, round: i + 1 });
    }
  });

  it("starts one function per round (concurrency 1, the deadline) and never touches the blocked one", () => {
    for (const run of runs) {
      const writes = run.calls.filter((c) => c.operation === "UpdateAlias").map((c) => c.path.split("/")[3]);
      expect(writes, explain(run)).to.have.length(1);
      expect(writes).to.not.include(BLOCKED);
    }
  });

  it("every other function converges: LIVE on 1.0.0 for all eight", async () => {
    for (const name of ROLLBACKS) {
      expect((await readAlias(world, name, "LIVE"))?.functionVersion, name).to.equal(before10[name]);
    }
  });

  it("the last round's result is a failure naming the blocked function, and only it", () => {
    const last = runs.at(-1)!;
    expect(last.jobResults.map((r) => r.operation), explain(last)).to.deep.equal(["PutJobFailureResult"]);
    const message = String((last.jobResults[0]!.body.failureDetails as Record<string, unknown>).message);
    expect(message).to.match(new RegExp(`^1 of 9 function\\(s\\) failed: ${BLOCKED}: version 1\\.5\\.0 `));
    for (const name of ROLLBACKS) expect(message).to.not.include(name);
  });
});
