/**
 * Progressive rollouts end to end: the built `dist/handler.mjs` in a child process acting as
 * PRODUCTION, against moto, with real CloudWatch alarms (moto emulates them) and the launcher
 * answering the smoke invocation from its table. Each test seeds its own function (versions 1.0.0
 * and 1.1.0 already in production, LIVE on 1.0.0) so that the rollout is a roll-forward.
 *
 * Hand-overs: each invocation is given just over DEADLINE_RESERVE_MS before its Lambda deadline,
 * so the handler starts the rollout and hands over through a continuation token a couple of
 * seconds later; the next invocation (a new job id, the token in its event) continues from what
 * it observes in AWS.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { DEADLINE_RESERVE_MS } from "../../reconciler/entry/handler.ts";
import { cloudWatchFor, putAlarm, setAlarm } from "../support/alarms.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  createArtifactBucket,
  ensureBuilt,
  type HandlerRun,
  invokeHandler,
  putSourceArtifact,
  readAlias,
  reconcilerEnv,
  repositoryFiles,
  runCli,
  startPipelineJob,
} from "../support/scenario.ts";
import {
  type AccountWorld,
  account,
  assumeInto,
  type Credentials,
  PRODUCTION,
  seedFunction,
  versionAlias,
} from "../support/seed.ts";

const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
/** Each invocation runs about this long before it hands over. */
const SLICE_MS = 2_500;

describe("progressive rollouts through the pipeline handler (moto)", function () {
  this.timeout(180_000);
  let moto: MotoServer;
  let production: AccountWorld;
  let artifactCredentials: Credentials;
  let cloudwatch: CloudWatchClient;
  let commits = 0;

  before(async function () {
    this.timeout(150_000);
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    production = await account(moto, PRODUCTION);
    artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
    await createArtifactBucket(production, BUCKET);
    cloudwatch = cloudWatchFor(production);
  });

  after(async () => {
    production?.lambda.destroy();
    cloudwatch?.destroy();
    await moto?.stop();
  });

  /** A function with 1.0.0 (v1) and 1.1.0 (v2) in production, LIVE on 1.0.0. */
  async function seed(name: string): Promise<void> {
    await seedFunction(production, { name, versions: [{ version: "1.0.0" }, { version: "1.1.0" }], live: "1.0.0" });
  }

  const alarm = (name: string, state: "OK" | "ALARM" = "OK") => putAlarm(cloudwatch, name, state);

  /** Commits a lambdas.json and returns its artifact key. */
  async function commit(definition: unknown): Promise<string> {
    commits += 1;
    const key = `pipeline/SourceOutput/rollout${commits}`;
    await putSourceArtifact(production, BUCKET, key, repositoryFiles(`${JSON.stringify(definition, null, 2)}\n`));
    return key;
  }

  /** One handler invocation for the commit at `key` (a new job id), optionally continuing a token. */
  async function invoke(key: string, continuationToken?: string, remainingMs = DEADLINE_RESERVE_MS + SLICE_MS): Promise<HandlerRun> {
    const event = await startPipelineJob(moto, {
      jobId: crypto.randomUUID(),
      accountId: PRODUCTION,
      bucket: BUCKET,
      objectKey: key,
      artifactCredentials,
      revision: `r${commits}`,
      ...(continuationToken === undefined ? {} : { data: { continuationToken } }),
    });
    return invokeHandler(moto, event, production.credentials, { remainingMs });
  }

  const explain = (run: HandlerRun) =>
    `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}\njob results: ${JSON.stringify(run.jobResults)}`;

  function resultOf(run: HandlerRun) {
    expect(run.code, explain(run)).to.equal(0);
    expect(run.jobResults, explain(run)).to.have.length(1);
    const result = run.jobResults[0]!;
    expect(result.jobId).to.equal(run.jobId);
    return result;
  }

  function tokenOf(run: HandlerRun): string | undefined {
    const result = resultOf(run);
    expect(result.operation, explain(run)).to.equal("PutJobSuccessResult");
    return result.body.continuationToken as string | undefined;
  }

  function failureOf(run: HandlerRun): string {
    const result = resultOf(run);
    expect(result.operation, explain(run)).to.equal("PutJobFailureResult");
    return String((result.body.failureDetails as { message?: string }).message);
  }

  const updates = (run: HandlerRun, name: string) =>
    run.calls.filter((c) => c.operation === "UpdateAlias" && c.path.includes(`/functions/${name}/aliases/LIVE`));

  it("a canary completes across several handler invocations handed over with continuation tokens", async () => {
    const name = "team-a-canary";
    await seed(name);
    await alarm("team-a-canary-5xx");
    await moto.defineInvokeAnswer({ functionName: name, qualifier: versionAlias("1.1.0"), payload: { pong: true } });
    const key = await commit({
      rollout: { steps: [50], interval: "3s", bake: "2s", alarms: ["team-a-canary-5xx"], smoke: { payload: { ping: true } } },
      lambdas: [{ name, version: "1.1.0" }],
    });

    const runs: HandlerRun[] = [await invoke(key)];
    let token = tokenOf(runs[0]!);
    expect(token, "the first invocation hands over").to.be.a("string");
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: { "2": 0.5 } });
    while (token !== undefined && runs.length < 10) {
      const run = await invoke(key, token);
      runs.push(run);
      token = tokenOf(run);
    }
    expect(token, "the rollout ends with a plain success").to.equal(undefined);
    expect(runs.length).to.be.at.least(2);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "2", weights: {} });

    const last = resultOf(runs.at(-1)!);
    const summary = String((last.body.executionDetails as { summary?: string }).summary);
    expect(summary).to.match(/team-a-canary.*rolled out in 2 steps/);

    // The smoke invocation ran once, before any traffic moved; every shift was one guarded UpdateAlias,
    // and the run that saw the bake end wrote the marker once more to record the rollout as done
    // (routing unchanged), so a later alarm can never move LIVE (issue 20).
    const invocations = await moto.invocations();
    expect(invocations.filter((i) => i.functionName === name).map((i) => [i.qualifier, i.payload])).to.deep.equal([
      ["1-1-0", { ping: true }],
    ]);
    expect(runs.flatMap((r) => updates(r, name))).to.have.length(3);
  });

  it("an alarm set to ALARM during a step rolls LIVE back to the previous version and fails naming it", async () => {
    const name = "team-a-alarmed";
    await seed(name);
    await alarm("team-a-alarmed-5xx");
    const key = await commit({
      rollout: { steps: [25, 50], interval: "30s", alarms: ["team-a-alarmed-5xx"] },
      lambdas: [{ name, version: "1.1.0" }],
    });
    const first = await invoke(key);
    const token = tokenOf(first);
    expect(token).to.be.a("string");
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: { "2": 0.25 } });

    await setAlarm(cloudwatch, "team-a-alarmed-5xx", "ALARM");
    const second = await invoke(key, token);
    const message = failureOf(second);
    expect(message).to.match(/team-a-alarmed/);
    expect(message).to.match(/rolled back by alarm "team-a-alarmed-5xx" \(in ALARM\) at step 1 of 3/);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });

    // A re-run of the same commit does not start the rolled-back rollout again.
    const rerun = await invoke(key);
    expect(failureOf(rerun)).to.match(/rolled back at step 1 of 3/);
    expect(updates(rerun, name)).to.have.length(0);
  });

  it("a failing smoke invocation never sends traffic to the new version", async () => {
    const name = "team-a-smoky";
    await seed(name);
    await moto.defineInvokeAnswer({
      functionName: name,
      qualifier: versionAlias("1.1.0"),
      functionError: "Unhandled",
      payload: { errorMessage: "cannot reach the database" },
    });
    const key = await commit({
      rollout: { steps: [10], interval: "1s", smoke: { payload: { ping: true } } },
      lambdas: [{ name, version: "1.1.0" }],
    });
    const run = await invoke(key);
    const message = failureOf(run);
    expect(message).to.match(/team-a-smoky.*smoke invocation failed \(status 200, Unhandled\): no traffic was moved/);
    expect(message).to.include("cannot reach the database");
    expect(updates(run, name)).to.have.length(0);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("a missing alarm blocks the function, naming the alarm, before any change", async () => {
    const name = "team-a-unwatched";
    await seed(name);
    const key = await commit({
      rollout: { steps: [10], interval: "1s", alarms: ["team-a-unwatched-5xx-typo"] },
      lambdas: [{ name, version: "1.1.0" }],
    });
    const run = await invoke(key);
    expect(failureOf(run)).to.match(/alarm "team-a-unwatched-5xx-typo" does not exist/);
    expect(run.calls.filter((c) => c.service === "lambda" && c.operation !== "ListAliases" && c.operation !== "GetFunction")).to.deep.equal([]);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("a revert of the file during a rollout moves LIVE back at once", async () => {
    const name = "team-a-reverted";
    await seed(name);
    const forward = await commit({
      rollout: { steps: [50], interval: "10m" },
      lambdas: [{ name, version: "1.1.0" }],
    });
    const first = await invoke(forward);
    expect(tokenOf(first)).to.be.a("string");
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: { "2": 0.5 } });

    const revert = await commit({
      rollout: { steps: [50], interval: "10m" },
      lambdas: [{ name, version: "1.0.0" }],
    });
    const run = await invoke(revert, undefined, 900_000);
    expect(tokenOf(run), "no waiting").to.equal(undefined);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });
    expect(updates(run, name)).to.have.length(1);
  });

  it("a continuation never restarts a rollout that someone moved back meanwhile", async () => {
    const name = "team-a-overridden";
    await seed(name);
    const key = await commit({ rollout: { steps: [50], interval: "10m" }, lambdas: [{ name, version: "1.1.0" }] });
    const token = tokenOf(await invoke(key));
    expect(token).to.be.a("string");
    // An operator puts LIVE back on 1.0.0 by hand (or with the CLI from a reverted file).
    await production.lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: "LIVE", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: {} } }),
    );
    const run = await invoke(key, token);
    // People win (issue 20): the rollout is stopped, named, and nothing is written.
    expect(failureOf(run)).to.match(/team-a-overridden: LIVE was moved outside lambda-gitops during the rollout of 1\.1\.0 \(now 1\.0\.0 at 100%\)/);
    expect(updates(run, name)).to.have.length(0);
    expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });
  });

  it("CLI apply --no-wait makes the next due move and exits; the next run continues from LIVE", async () => {
    const name = "team-a-cron";
    await seed(name);
    await alarm("team-a-cron-5xx");
    const dir = await mkdtemp(join(tmpdir(), "lambda-gitops-rollout-"));
    try {
      const definition = { rollout: { steps: [10], interval: "1h", alarms: ["team-a-cron-5xx"] }, lambdas: [{ name, version: "1.1.0" }] };
      await writeFile(join(dir, "lambdas.json"), JSON.stringify(definition));
      const apply = () =>
        runCli(["apply", "lambdas.json", "--auto-approve", "--allowed-prefix", "team-a-", "--no-wait"], {
          env: reconcilerEnv(moto, production.credentials),
          cwd: dir,
        });
      const first = await apply();
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stderr).to.match(/team-a-cron: shifted to 10% \(step 1 of 2\); next move at \d\d:\d\d:\d\dZ/);
      expect(first.stdout).to.match(/rollout step 1 of 2, next shift at/);
      expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "1", weights: { "2": 0.1 } });

      await moto.resetCalls();
      const second = await apply();
      expect(second.code, second.stderr).to.equal(0);
      expect((await moto.calls()).filter((c) => c.operation === "UpdateAlias")).to.deep.equal([]);
      expect(second.stdout).to.match(/rollout step 1 of 2, next shift at/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
