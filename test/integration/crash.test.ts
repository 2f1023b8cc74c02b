/**
 * Crash safety: the built CLI is SIGKILLed in the middle of a promotion, and the next run must
 * finish the job without deploying wrong bytes or piling up versions.
 *
 * Every AWS call goes through test/support/aws-proxy.ts (no faults). Its `beforeResponse` hook
 * HOLDS the answer of a chosen call: moto has already acted, the reconciler never learns it, and
 * the test kills the process right then, the worst moment for each step:
 *   after the code update (UpdateFunctionCode), after publishing (PublishVersion), after creating
 *   the version alias (CreateAlias 1-1-0), after moving LIVE (UpdateAlias);
 * and at random calls (seeded) of a 20-function run, several times in a row.
 *
 * After every kill and every run, the invariant of test/support/fleet.ts holds (every version
 * alias carries its semver's source hash; LIVE routes only to such versions); the next run exits 0
 * and converges; each crash costs at most one extra published version (counted with
 * ListVersionsByFunction); and the recovery run does only what is left (no second upload of code
 * already on $LATEST, no second version when the alias exists).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { type AwsProxy, type ProxyCall, startAwsProxy } from "../support/aws-proxy.ts";
import {
  type CliChild,
  cliArgs,
  cliEnv,
  crashSigns,
  expectedSha,
  type Fleet,
  type FleetFunction,
  fleetDefinition,
  inspectFleet,
  seedFleet,
  spawnCli,
} from "../support/fleet.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { ensureBuilt, readAlias } from "../support/scenario.ts";
import { PRODUCTION } from "../support/seed.ts";

/** Which call's answer to hold, and what to do when it arrives. */
interface Trap {
  matches(call: ProxyCall): boolean;
  sprung(call: ProxyCall): void;
}

const MUTATING = new Set(["UpdateFunctionCode", "PublishVersion", "CreateAlias", "UpdateAlias"]);
const functionOf = (call: ProxyCall) => call.path.split("/")[3] ?? "";

/** mulberry32: a small seeded PRNG, so the "random" moments are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("crash safety: SIGKILL at every step of a promotion, and at random moments", function () {
  this.timeout(90_000);
  let moto: MotoServer;
  let proxy: AwsProxy;
  let dir: string;
  let trap: Trap | undefined;

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-crash-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    proxy = await startAwsProxy({
      upstream: moto.endpoint,
      quotas: false,
      hooks: {
        beforeResponse: async (call) => {
          const armed = trap;
          if (!armed?.matches(call)) return "pass";
          trap = undefined;
          armed.sprung(call);
          return "hold";
        },
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeDefinition(name: string, functions: readonly FleetFunction[]): Promise<string> {
    await writeFile(join(dir, name), fleetDefinition(functions));
    return name;
  }

  function apply(fleet: Fleet, file: string): CliChild {
    return spawnCli(cliArgs("apply", file, "--format", "json"), {
      env: cliEnv(moto, fleet, proxy.endpoint, { LAMBDA_GITOPS_RATE_LIMIT: "off" }),
      cwd: dir,
    });
  }

  /** Runs apply with `armed`; kills the process once the trap is sprung. Returns the held call, if any. */
  async function crashRun(fleet: Fleet, file: string, armed: (call: ProxyCall) => boolean) {
    let sprung: (call: ProxyCall) => void = () => {};
    const held = new Promise<ProxyCall>((resolve) => {
      sprung = resolve;
    });
    trap = { matches: armed, sprung };
    const cli = apply(fleet, file);
    const outcome = await Promise.race([held, cli.done.then(() => undefined)]);
    trap = undefined;
    cli.kill();
    const result = await cli.done;
    await quiet();
    return { call: outcome, result };
  }

  /** Waits (at most 3 s) until every call the dead process had in flight has been answered upstream. */
  async function quiet(): Promise<void> {
    const until = performance.now() + 3000;
    while (performance.now() < until && proxy.stats().calls.some((c) => c.status === null)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const explain = (result: { code: number | null; stdout: string; stderr: string }) =>
    `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 3000)}\nstderr:\n${result.stderr.slice(-3000)}`;

  describe("at each step boundary of a promotion", () => {
    let fleet: Fleet;

    before(async () => {
      fleet = await seedFleet(moto, { promote: 4 }, "stp");
      proxy.registerAccount(fleet.production.credentials.accessKeyId, PRODUCTION);
    });
    after(() => fleet?.destroy());

    const latestSha = async (name: string) =>
      (await fleet.production.lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration
        ?.CodeSha256;

    const STEPS = [
      {
        step: "the code update",
        operation: "UpdateFunctionCode",
        method: "PUT",
        /** The state the kill left behind. */
        left: async (f: FleetFunction) => {
          expect(await latestSha(f.name), "the new code is on $LATEST").to.equal(
            expectedSha(f.name, "1.1.0"),
          );
          expect((await inspectFleet(fleet, [f])).byName.get(f.name)?.versions).to.equal(1);
          expect(await readAlias(fleet.production, f.name, "1-1-0")).to.equal(null);
        },
        /** The mutating calls the recovery run makes for this function. */
        recovery: ["PublishVersion", "CreateAlias", "UpdateAlias"],
      },
      {
        step: "publishing",
        operation: "PublishVersion",
        method: "POST",
        left: async (f: FleetFunction) => {
          expect((await inspectFleet(fleet, [f])).byName.get(f.name)?.versions).to.equal(2);
          expect(await readAlias(fleet.production, f.name, "1-1-0")).to.equal(null);
        },
        recovery: ["PublishVersion", "CreateAlias", "UpdateAlias"],
      },
      {
        step: "creating the version alias",
        operation: "CreateAlias",
        method: "POST",
        left: async (f: FleetFunction) => {
          expect(await readAlias(fleet.production, f.name, "1-1-0")).to.deep.equal({
            functionVersion: "2",
            weights: {},
          });
        },
        recovery: ["UpdateAlias"],
      },
      {
        step: "moving LIVE",
        operation: "UpdateAlias",
        method: "PUT",
        left: async (f: FleetFunction) => {
          expect((await readAlias(fleet.production, f.name, "LIVE"))?.functionVersion).to.equal("2");
        },
        recovery: [],
      },
    ] as const;

    for (const [i, s] of STEPS.entries()) {
      it(`after ${s.step} (${s.operation} answered upstream, never delivered): the next run finishes it`, async () => {
        const f = fleet.functions[i]!;
        const file = await writeDefinition(`step-${i}.json`, [f]);
        const before = (await inspectFleet(fleet, [f])).byName.get(f.name)!;
        expect(before).to.deep.equal({ live: "1.0.0", versions: 1 });

        const crash = await crashRun(
          fleet,
          file,
          (call) =>
            call.service === "lambda" &&
            call.operation === s.operation &&
            call.method === s.method &&
            functionOf(call) === f.name,
        );
        expect(crash.call, `the run reached ${s.operation}: ${explain(crash.result)}`).to.not.equal(
          undefined,
        );
        expect(crash.result.signal, explain(crash.result)).to.equal("SIGKILL");
        await s.left(f);
        const crashed = await inspectFleet(fleet, [f]);
        expect(crashed.violations).to.deep.equal([]);
        expect(crashed.byName.get(f.name)?.live).to.be.oneOf(["1.0.0", "1.1.0"]);

        proxy.reset();
        const rerun = await apply(fleet, file).done;
        expect(rerun.code, explain(rerun)).to.equal(0);
        expect(crashSigns(rerun)).to.deep.equal([]);
        const writes = proxy
          .stats()
          .calls.filter(
            (c) => c.service === "lambda" && MUTATING.has(c.operation) && functionOf(c) === f.name,
          )
          .map((c) => c.operation);
        expect(writes, "the recovery run does only what was left").to.deep.equal(s.recovery);

        const after = await inspectFleet(fleet, [f]);
        expect(after.violations).to.deep.equal([]);
        expect(after.pending).to.deep.equal([]);
        const published = after.byName.get(f.name)!.versions - before.versions;
        expect(published, "one version for the promotion, at most one more for the crash").to.be.within(1, 2);
        expect(published, "moto, like Lambda, does not publish unchanged code twice").to.equal(1);
      });
    }
  });

  describe("at random moments of a 20-function run, six times in a row", () => {
    let fleet: Fleet;
    let file: string;
    const crashes: { at: string; code: number | null; signal: string | null }[] = [];

    before(async () => {
      fleet = await seedFleet(moto, { promote: 12, rollback: 6, noop: 2 }, "rnd");
      proxy.registerAccount(fleet.production.credentials.accessKeyId, PRODUCTION);
      file = await writeDefinition("random.json", fleet.functions);
    });
    after(() => fleet?.destroy());

    it("keeps the invariant after every kill, then converges with at most one extra version per crash", async () => {
      const random = prng(0x5eed);
      // Mostly right after a write was applied (the j-th UpdateFunctionCode / PublishVersion /
      // CreateAlias / UpdateAlias answer of the run), sometimes at any answer at all (observing,
      // assuming the source role, waiting for an update).
      const kinds = ["write", "any", "write", "write", "any", "write"] as const;
      for (const kind of kinds) {
        const k = 1 + Math.floor(random() * (kind === "write" ? 8 : 60));
        let seen = 0;
        const counts = (call: ProxyCall) =>
          kind === "any" || (call.service === "lambda" && MUTATING.has(call.operation));
        const crash = await crashRun(fleet, file, (call) => counts(call) && ++seen === k);
        const at = crash.call ? `${crash.call.operation} ${functionOf(crash.call)} (${kind} #${k})` : "none";
        crashes.push({ at, code: crash.result.code, signal: crash.result.signal });
        const view = await inspectFleet(fleet);
        expect(view.violations, `after the crash at ${at}`).to.deep.equal([]);
      }
      const killed = crashes.filter((c) => c.signal === "SIGKILL").length;
      expect(killed, JSON.stringify(crashes)).to.be.at.least(4);
      const afterWrites = crashes.filter((c) =>
        /^(UpdateFunctionCode|PublishVersion|CreateAlias|UpdateAlias) /.test(c.at),
      );
      expect(afterWrites.length, JSON.stringify(crashes)).to.be.at.least(3);

      const final = await apply(fleet, file).done;
      expect(final.code, `${explain(final)}\ncrashes: ${JSON.stringify(crashes)}`).to.equal(0);
      expect(crashSigns(final)).to.deep.equal([]);
      const view = await inspectFleet(fleet);
      expect(view.violations).to.deep.equal([]);
      expect(view.pending).to.deep.equal([]);

      const extra = fleet.functions.map((f) => ({
        name: f.name,
        extra: view.byName.get(f.name)!.versions - f.seededVersions - (f.kind === "promote" ? 1 : 0),
      }));
      for (const e of extra) expect(e.extra, e.name).to.be.within(0, killed);
      const total = extra.reduce((sum, e) => sum + e.extra, 0);
      expect(total, "extra versions in all").to.be.at.most(killed);
    });
  });
});
