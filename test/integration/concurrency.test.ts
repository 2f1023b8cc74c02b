/**
 * Concurrent runs: two reconcilers applying the same definition at the same time, as overlapping
 * pipeline executions do. Every AWS call goes through test/support/aws-proxy.ts (no faults), whose
 * hook is used to force the worst interleavings.
 *
 * 1. Two overlapping pipeline executions: the built handler (dist/handler.mjs) invoked twice at
 *    once with two job ids, on a 20-function fleet (10 promotions, 5 rollbacks, 5 noops).
 * 2. Two CLI applies forced to collide: for every function the first PublishVersion answer and the
 *    first CreateAlias answer are held until the other run has sent the same call, so both runs
 *    publish, both try to create the same version alias, and (for functions without a LIVE alias
 *    yet) both try to create LIVE; moto answers the second CreateAlias with 409
 *    ResourceConflictException. The loser of a version-alias race must check the winner's code and
 *    reuse it; the loser of a LIVE race must re-observe, re-plan once, and find nothing left to do.
 *
 * Both runs must finish on their own (no crash, no hang, exit 0 / one success result per job), the
 * final state must be the declared one, the invariant of test/support/fleet.ts must hold in every
 * sample taken during the runs, each run may publish at most one version per promotion, and a third
 * run must find nothing to do.
 *
 * What moto cannot show: it ignores RevisionId on UpdateFunctionCode, PublishVersion and UpdateAlias
 * (the launcher only invents RevisionIds in responses), so the guarded-write path (a stale
 * RevisionId -> PreconditionFailedException -> re-observe and re-plan once) never runs here; it is
 * covered against the SDK mocks in test/unit/apply.test.ts. On moto the two runs' writes simply
 * both land: a second UpdateFunctionCode of the same bytes, a PublishVersion that may add one
 * version of the same code, a last-writer-wins UpdateAlias to the same target. What these tests do
 * prove over real HTTP: the conflicts moto does enforce (CreateAlias 409) are resolved by reusing
 * the other run's alias only after checking its code hash, duplicate work never corrupts state, and
 * both runs report success.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type AwsProxy, type ProxyCall, startAwsProxy } from "../support/aws-proxy.ts";
import {
  type CliChild,
  cliArgs,
  cliEnv,
  crashSigns,
  type Fleet,
  type FleetView,
  inspectFleet,
  seedFleet,
  spawnCli,
  spawnHandler,
} from "../support/fleet.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  type ChildResult,
  startPipelineJob,
  createArtifactBucket,
  ensureBuilt,
  putSourceArtifact,
  repositoryFiles,
} from "../support/scenario.ts";
import { assumeInto, PRODUCTION } from "../support/seed.ts";

const MUTATING = new Set([
  "UpdateFunctionCode",
  "UpdateFunctionConfiguration",
  "PublishVersion",
  "CreateAlias",
  "UpdateAlias",
]);
const functionOf = (call: ProxyCall) => call.path.split("/")[3] ?? "";
const BUCKET = `codepipeline-us-east-1-${PRODUCTION}`;
const LOCKSTEP = ["ListAliases", "PublishVersion", "CreateAlias"];

/** The JSON log lines a CLI run wrote to stderr. */
const logLines = (run: ChildResult) =>
  run.stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { message?: string; function?: string });

describe("concurrent runs: two reconcilers applying the same file at once", function () {
  this.timeout(90_000);
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  let hook: ((call: ProxyCall) => Promise<"pass" | "hold">) | undefined;

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-concurrency-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    proxy = await startAwsProxy({
      upstream: moto.endpoint,
      quotas: false,
      hooks: { beforeResponse: (call) => hook?.(call) ?? Promise.resolve("pass") },
    });
  });

  after(async () => {
    hook = undefined;
    await proxy?.stop();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Waits for `runs`, sampling the invariant meanwhile; returns the results and every sample. */
  async function observe(
    fleet: Fleet,
    runs: CliChild[],
  ): Promise<{ results: ChildResult[]; samples: FleetView[] }> {
    const samples: FleetView[] = [];
    let finished = false;
    const sampling = (async () => {
      while (!finished) samples.push(await inspectFleet(fleet));
    })();
    sampling.catch(() => {}); // awaited below; a read error must not surface as an unhandled rejection
    const results = await Promise.all(runs.map((r) => r.done));
    finished = true;
    await sampling;
    samples.push(await inspectFleet(fleet));
    return { results, samples };
  }

  const explain = (results: readonly ChildResult[]) =>
    results
      .map(
        (r, i) =>
          `run ${i + 1}: exit ${r.code}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`,
      )
      .join("\n\n");

  /** Every claim about the world after two concurrent runs of `fleet`'s definition. */
  function expectConverged(
    fleet: Fleet,
    samples: readonly FleetView[],
    results: readonly ChildResult[],
  ): void {
    for (const view of samples) expect(view.violations, explain(results)).to.deep.equal([]);
    const last = samples.at(-1)!;
    expect(last.pending, explain(results)).to.deep.equal([]);
    for (const f of fleet.functions) {
      const published = last.byName.get(f.name)!.versions - f.seededVersions;
      if (f.kind === "promote")
        expect(published, `${f.name}: one version per run at most`).to.be.within(1, 2);
      else expect(published, f.name).to.equal(0);
    }
  }

  async function expectNothingLeft(fleet: Fleet, file: string): Promise<void> {
    proxy.reset();
    const third = await spawnCli(cliArgs("apply", file), {
      env: cliEnv(moto, fleet, proxy.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off" }),
      cwd: dir,
    }).done;
    expect(third.code, explain([third])).to.equal(0);
    const writes = proxy.stats().calls.filter((c) => c.service === "lambda" && MUTATING.has(c.operation));
    expect(writes.map((c) => `${c.operation} ${c.path}`)).to.deep.equal([]);
  }

  describe("two overlapping pipeline executions (the built handler, two jobs at once)", () => {
    let fleet: Fleet;
    let results: ChildResult[];
    let samples: FleetView[];
    const jobIds: string[] = [randomUUID(), randomUUID()];

    before(async function () {
      this.timeout(120_000);
      fleet = await seedFleet(moto, { promote: 10, rollback: 5, noop: 5 }, "pipe");
      proxy.registerAccount(fleet.production.credentials.accessKeyId, PRODUCTION);
      await writeFile(join(dir, "pipe.json"), fleet.definition);
      const artifactCredentials = await assumeInto(moto, PRODUCTION, "codepipeline-artifact-access");
      await createArtifactBucket(fleet.production, BUCKET);
      const key = "pipeline/SourceOutput/c0ncurr";
      await putSourceArtifact(fleet.production, BUCKET, key, repositoryFiles(fleet.definition));
      const env = cliEnv(moto, fleet, proxy.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off", LOG_LEVEL: "info" });
      const events = await Promise.all(
        jobIds.map((jobId) =>
          startPipelineJob(moto, { jobId, accountId: PRODUCTION, bucket: BUCKET, objectKey: key, artifactCredentials }),
        ),
      );
      const runs = events.map((event) => spawnHandler(event, { env, requestId: randomUUID() }));
      ({ results, samples } = await observe(fleet, runs));
    });
    after(() => fleet?.destroy());

    it("both invocations finish without crashing and report exactly one success each", async () => {
      for (const r of results) {
        expect(r.code, explain(results)).to.equal(0);
        expect(crashSigns(r), explain(results)).to.deep.equal([]);
      }
      const recorded = (await moto.jobResults()).filter((r) => jobIds.includes(r.jobId));
      expect(recorded.map((r) => [r.jobId, r.operation]).sort()).to.deep.equal(
        jobIds.map((id) => [id, "PutJobSuccessResult"]).sort(),
      );
    });

    it("ends in the declared state, and LIVE never routed to unverified code meanwhile", () => {
      expect(samples.length).to.be.at.least(2);
      expectConverged(fleet, samples, results);
    });

    it("a third run finds nothing to do", () => expectNothingLeft(fleet, "pipe.json"));
  });

  describe("two CLI applies forced to collide on every promotion", () => {
    let fleet: Fleet;
    let results: ChildResult[];
    let samples: FleetView[];
    /** Per function and operation: how many answers were held until the other run caught up. */
    const collided = new Map<string, number>();

    before(async function () {
      this.timeout(120_000);
      fleet = await seedFleet(moto, { promote: 6, rollback: 3, noop: 3, golive: 3 }, "clash");
      proxy.registerAccount(fleet.production.credentials.accessKeyId, PRODUCTION);
      await writeFile(join(dir, "clash.json"), fleet.definition);
      // The first ListAliases / PublishVersion / CreateAlias answer of each function waits (at most
      // 5 s) for the other run's same call: both runs observe the same state, then are inside the
      // same step of the same function.
      const waiting = new Map<string, () => void>();
      hook = async (call) => {
        if (call.service !== "lambda" || !LOCKSTEP.includes(call.operation)) return "pass";
        const key = `${call.operation} ${functionOf(call)}`;
        const first = waiting.get(key);
        if (first) {
          waiting.delete(key);
          collided.set(key, (collided.get(key) ?? 0) + 1);
          first();
          return "pass";
        }
        if (collided.has(key)) return "pass";
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          waiting.set(key, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiting.delete(key);
        return "pass";
      };
      const env = cliEnv(moto, fleet, proxy.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off", LOG_LEVEL: "info" });
      const runs = [0, 1].map(() =>
        spawnCli(cliArgs("apply", "clash.json", "--format", "json"), { env, cwd: dir }),
      );
      try {
        ({ results, samples } = await observe(fleet, runs));
      } finally {
        hook = undefined;
      }
    });
    after(() => fleet?.destroy());

    it("really collided: both runs published and created the version alias of the same functions", () => {
      const promoted = fleet.functions.filter((f) => f.kind === "promote").map((f) => f.name);
      const publishes = promoted.filter((name) => collided.has(`PublishVersion ${name}`));
      const creates = promoted.filter((name) => collided.has(`CreateAlias ${name}`));
      expect(publishes, JSON.stringify([...collided])).to.deep.equal(promoted);
      expect(creates, JSON.stringify([...collided])).to.deep.equal(promoted);
    });

    it("the run that lost the CreateAlias race checked the winner's code and reused its alias", () => {
      const reused = results.flatMap((r) =>
        logLines(r)
          .filter((l) => l.message === "version alias already existed with the same code; using it")
          .map((l) => l.function),
      );
      const promoted = fleet.functions.filter((f) => f.kind === "promote").map((f) => f.name);
      const raced = promoted.filter((name) => collided.has(`CreateAlias ${name}`));
      expect([...reused].sort(), explain(results)).to.deep.equal(raced.sort());
    });

    it("the run that lost the LIVE creation race re-observed, re-planned once and found it done", () => {
      const replanned = results.flatMap((r) =>
        logLines(r)
          .filter((l) => l.message === "changed concurrently; re-planning once")
          .map((l) => l.function),
      );
      const fresh = fleet.functions.filter((f) => f.kind === "golive").map((f) => f.name);
      const raced = fresh.filter((name) => collided.has(`CreateAlias ${name}`));
      expect(raced, JSON.stringify([...collided])).to.deep.equal(fresh);
      expect([...replanned].sort(), explain(results)).to.deep.equal(fresh);
    });

    it("both runs exit 0 without crashing: the alias conflicts are resolved, not surfaced", () => {
      for (const r of results) {
        expect(r.code, explain(results)).to.equal(0);
        expect(crashSigns(r), explain(results)).to.deep.equal([]);
        const report = JSON.parse(r.stdout) as { functions: { status: string }[] };
        expect(report.functions.every((f) => f.status === "applied" || f.status === "unchanged")).to.equal(
          true,
        );
      }
    });

    it("ends in the declared state, and LIVE never routed to unverified code meanwhile", () => {
      expectConverged(fleet, samples, results);
    });

    it("a third run finds nothing to do", () => expectNothingLeft(fleet, "clash.json"));
  });
});
