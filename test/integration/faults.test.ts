/**
 * Faults between the SDK and AWS: the built CLI (`node dist/cli.mjs apply`) reconciles a fleet of
 * 105 functions (40 promotions, 35 rollbacks, 30 noops, seeded straight into moto) with every AWS
 * call going through test/support/aws-proxy.ts, which injects a fault into 10% of them: 500, 503,
 * 429, connection reset AFTER moto acted, slow answers, and bodies cut in half after moto acted.
 * The fault pattern is deterministic for the seed.
 *
 * What must hold:
 * - at most two runs converge: every LIVE alias is on the declared version, and a plan afterwards
 *   (no faults) has nothing left to do;
 * - the safety invariant (test/support/fleet.ts, `inspectFleet`) holds after each run AND in every
 *   sample taken while the runs are in flight: every version alias points at code whose hash is
 *   that semantic version's hash in the source account, and LIVE only routes to such versions;
 * - retried writes never duplicate anything: each promotion publishes exactly one version;
 * - a failed run fails per function with a named cause, never as a crash.
 *
 * Not covered here: the package download (Code.Location is served by moto's launcher directly, not
 * through the proxy; its hash check is tested in test/unit/download.test.ts), and Lambda quotas
 * (`quotas: false`; the client-side rate scheduler is switched off with LAMBDA_GITOPS_RATE_LIMIT=off
 * because injected 429s would make it back off for most of the CI budget, see scripts/bench.ts).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type AwsProxy, type FaultKind, startAwsProxy } from "../support/aws-proxy.ts";
import {
  cliArgs,
  cliEnv,
  crashSigns,
  type Fleet,
  type FleetView,
  inspectFleet,
  seedFleet,
  spawnCli,
} from "../support/fleet.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { type ChildResult, ensureBuilt } from "../support/scenario.ts";
import { PRODUCTION } from "../support/seed.ts";

const KINDS: FaultKind[] = ["500", "503", "429", "reset", "slow", "truncate"];
const FAULT_RATE = 0.1;

interface ObservedRun {
  result: ChildResult;
  /** The invariant read while the run was in flight (and once right after it). */
  samples: FleetView[];
  after: FleetView;
  calls: number;
  faults: Partial<Record<FaultKind, number>>;
  ms: number;
}

describe("faults: 10% injected AWS errors, 105 functions, the built CLI", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let proxy: AwsProxy;
  let fleet: Fleet;
  let dir: string;
  const runs: ObservedRun[] = [];

  before(async function () {
    this.timeout(240_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-faults-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    fleet = await seedFleet(moto, { promote: 40, rollback: 35, noop: 30 }, "flt");
    await writeFile(join(dir, "lambdas.json"), fleet.definition);
    proxy = await startAwsProxy({
      upstream: moto.endpoint,
      quotas: false,
      faults: { rate: FAULT_RATE, kinds: KINDS, seed: 20240611, slowMs: 300 },
    });
    proxy.registerAccount(fleet.production.credentials.accessKeyId, PRODUCTION);

    // Run until converged, at most twice (a third run would be a failure of the claim).
    for (let i = 0; i < 2; i++) {
      runs.push(await observedRun());
      if (runs.at(-1)!.result.code === 0) break;
    }
  });

  after(async () => {
    await proxy?.stop();
    fleet?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function observedRun(): Promise<ObservedRun> {
    proxy.reset();
    const started = performance.now();
    const cli = spawnCli(cliArgs("apply", "lambdas.json", "--concurrency", "8", "--format", "json"), {
      env: cliEnv(moto, fleet, proxy.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off" }),
      cwd: dir,
    });
    const samples: FleetView[] = [];
    let finished = false;
    const sampling = (async () => {
      while (!finished) samples.push(await inspectFleet(fleet));
    })();
    sampling.catch(() => {}); // awaited below; a read error must not surface as an unhandled rejection
    const result = await cli.done;
    const ms = performance.now() - started;
    finished = true;
    await sampling;
    const after = await inspectFleet(fleet);
    const stats = proxy.stats();
    const faults: Partial<Record<FaultKind, number>> = {};
    for (const call of stats.calls) if (call.fault) faults[call.fault] = (faults[call.fault] ?? 0) + 1;
    return { result, samples, after, calls: stats.calls.length, faults, ms };
  }

  const explain = (run: ObservedRun) =>
    `exit ${run.result.code} after ${Math.round(run.ms)} ms, ${run.calls} calls, faults ${JSON.stringify(run.faults)}\nstdout:\n${run.result.stdout.slice(0, 4000)}\nstderr:\n${run.result.stderr.slice(-4000)}`;

  it("injected every kind of fault into about 10% of the first run's calls", () => {
    const first = runs[0]!;
    expect(first.calls, explain(first)).to.be.at.least(400);
    for (const kind of KINDS) expect(first.faults[kind] ?? 0, `${kind}: ${explain(first)}`).to.be.above(0);
    const total = Object.values(first.faults).reduce((a, b) => a + b, 0);
    expect(total / first.calls).to.be.within(FAULT_RATE / 2, FAULT_RATE * 2);
  });

  it("converges in at most two runs: the last exits 0 with every LIVE on the declared version", () => {
    const last = runs.at(-1)!;
    expect(runs.length).to.be.at.most(2);
    expect(last.result.code, explain(last)).to.equal(0);
    expect(last.after.pending, explain(last)).to.deep.equal([]);
  });

  it("a run that did not converge failed per function with a named cause, never as a crash", () => {
    for (const run of runs) {
      expect(crashSigns(run.result), explain(run)).to.deep.equal([]);
      if (run.result.code === 0) continue;
      expect(run.result.code, explain(run)).to.equal(1);
      const report = JSON.parse(run.result.stdout) as { functions: { status: string; error?: string }[] };
      const failed = report.functions.filter((r) => r.status === "failed");
      expect(failed.length, explain(run)).to.be.above(0);
      for (const f of failed) expect(f.error, explain(run)).to.match(/failed: \w+/);
    }
  });

  it("never lets LIVE route to unverified code: not after a run, not while one is in flight", () => {
    for (const [i, run] of runs.entries()) {
      expect(run.samples.length, `run ${i + 1} was sampled`).to.be.above(0);
      if (i === 0) {
        const changing = fleet.functions.filter((f) => f.from !== f.desired).length;
        const midway = run.samples.filter((v) => v.pending.length > 0 && v.pending.length < changing);
        expect(midway.length, "a sample caught the fleet half-way through the first run").to.be.above(0);
      }
      for (const view of [...run.samples, run.after]) {
        expect(view.violations, `run ${i + 1}: ${explain(run)}`).to.deep.equal([]);
      }
    }
  });

  it("publishes exactly one version per promotion despite retried writes, and none otherwise", () => {
    const view = runs.at(-1)!.after;
    const unexpected = fleet.functions
      .map((f) => ({
        name: f.name,
        expected: f.seededVersions + (f.kind === "promote" ? 1 : 0),
        actual: view.byName.get(f.name)?.versions,
      }))
      .filter((v) => v.actual !== v.expected);
    expect(unexpected).to.deep.equal([]);
  });

  it("leaves nothing to do: a plan without faults reports no changes", async () => {
    const plan = await spawnCli(cliArgs("plan", "lambdas.json", "--detailed-exitcode"), {
      env: cliEnv(moto, fleet, moto.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off" }),
      cwd: dir,
    }).done;
    expect(plan.code, `${plan.stdout}\n${plan.stderr}`).to.equal(0);
  });
});
