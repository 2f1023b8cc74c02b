/**
 * Reporting the job result when CodePipeline's API fails: the built handler (dist/handler.mjs) in a
 * child process against moto, whose launcher answers the next N job-result calls with HTTP 500
 * InternalServerError (`failNextJobResults`) without recording them.
 *
 * - A few failures, then success: the result is retried and recorded exactly once; the invocation
 *   succeeds (exit 0).
 * - The API stays down: the report is retried a bounded number of times (REPORT_MAX_ATTEMPTS, the
 *   SDK's own retries), then the invocation fails (the process exits non-zero: Lambda marks the
 *   invocation failed and retries it); no result is recorded, and a failed success report is never
 *   turned into a (contradictory) failure report.
 * Both for a success result and for a failure result (an invalid definition).
 */
import { expect } from "chai";
import { REPORT_MAX_ATTEMPTS } from "../../reconciler/aws/codepipeline.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  startPipelineJob,
  createArtifactBucket,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  lambdasJsonOf,
  putSourceArtifact,
  repositoryFiles,
} from "../support/scenario.ts";
import { account, assumeInto, type Credentials, PRODUCTION, seedFunction } from "../support/seed.ts";

const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
const KEYS = { good: "pipeline/SourceOutput/g00d", bad: "pipeline/SourceOutput/b4d" } as const;
const RESULT_OPERATIONS = new Set(["PutJobSuccessResult", "PutJobFailureResult"]);

describe("job result reporting when the CodePipeline API fails (dist/handler.mjs, moto)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let credentials: Credentials;
  let artifactCredentials: Credentials;

  before(async function () {
    this.timeout(150_000);
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    const production = await account(moto, PRODUCTION);
    credentials = production.credentials;
    await seedFunction(production, {
      name: "team-a-orders",
      versions: [{ version: "1.1.1" }],
      live: "1.1.1",
    });
    artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    await createArtifactBucket(production, BUCKET);
    const files = (lambdas: string) => repositoryFiles(lambdas);
    await putSourceArtifact(
      production,
      BUCKET,
      KEYS.good,
      files(lambdasJsonOf([{ name: "team-a-orders", desired: { version: "1.1.1" } }])),
    );
    await putSourceArtifact(
      production,
      BUCKET,
      KEYS.bad,
      files(lambdasJsonOf([{ name: "team-b-billing", desired: { version: "1.0.0" } }])),
    );
    production.lambda.destroy();
  });

  afterEach(async () => {
    await moto.failNextJobResults(0);
    await moto.loseNextJobResultAnswers(0);
  });
  after(async () => {
    await moto?.stop();
  });

  async function invoke(kind: keyof typeof KEYS, failures: number): Promise<HandlerRun & { ms: number }> {
    await moto.failNextJobResults(failures);
    const event = await startPipelineJob(moto, {
      jobId: crypto.randomUUID(),
      accountId: PRODUCTION,
      bucket: BUCKET,
      objectKey: KEYS[kind],
      artifactCredentials,
    });
    const started = performance.now();
    const run = await invokeHandler(moto, event, credentials);
    return { ...run, ms: performance.now() - started };
  }

  /** The job-result calls the run made, as "Operation status". */
  const attempts = (run: HandlerRun) =>
    run.calls.filter((c) => RESULT_OPERATIONS.has(c.operation)).map((c) => `${c.operation} ${c.status}`);

  const explain = (run: HandlerRun) =>
    `exit ${run.code}\nattempts: ${JSON.stringify(attempts(run))}\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}`;

  for (const [kind, operation] of [
    ["good", "PutJobSuccessResult"],
    ["bad", "PutJobFailureResult"],
  ] as const) {
    describe(`reporting a ${kind === "good" ? "success" : "failure"} (${operation})`, () => {
      it("retries through two failures and records exactly one result", async () => {
        const run = await invoke(kind, 2);
        expect(run.code, explain(run)).to.equal(0);
        expect(attempts(run), explain(run)).to.deep.equal([
          `${operation} 500`,
          `${operation} 500`,
          `${operation} 200`,
        ]);
        expect(run.jobResults.map((r) => [r.jobId, r.operation])).to.deep.equal([[run.jobId, operation]]);
      });

      it("treats a retry refused because the job is finished as reported (the first answer was lost)", async () => {
        // CodePipeline recorded the result but the answer was lost; the SDK retries and CodePipeline
        // refuses (InvalidJobStateException). Failing the invocation would make Lambda run the job
        // again later, re-applying this definition over whatever deployed meanwhile.
        await moto.loseNextJobResultAnswers(1);
        const run = await invoke(kind, 0);
        expect(run.code, explain(run)).to.equal(0);
        expect(attempts(run), explain(run)).to.deep.equal([`${operation} 500`, `${operation} 400`]);
        expect(run.jobResults.map((r) => [r.jobId, r.operation])).to.deep.equal([[run.jobId, operation]]);
        expect(run.logs.map((l) => l.message)).to.include(
          "CodePipeline says the job is already finished (a retried result call whose first answer was lost); not failing the invocation",
        );
      });

      it(`gives up after ${REPORT_MAX_ATTEMPTS} attempts and fails the invocation, recording nothing`, async () => {
        const run = await invoke(kind, 100);
        expect(run.code, explain(run)).to.not.equal(0);
        expect(attempts(run), explain(run)).to.deep.equal(
          Array.from({ length: REPORT_MAX_ATTEMPTS }, () => `${operation} 500`),
        );
        expect(run.jobResults).to.deep.equal([]);
        expect(`${run.stdout}\n${run.stderr}`).to.contain(`${operation} failed: InternalServerError`);
        expect(run.ms, "bounded: the SDK's backoff, not a hang").to.be.below(30_000);
      });
    });
  }
});
