/**
 * Release sets (issue 25) against moto, through the built CLI: a group with one blocked member
 * moves no member (not even the one that could move alone), while a function outside the group is
 * never held back.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  ALLOWED_PREFIX,
  type ChildResult,
  describeCalls,
  ensureBuilt,
  mutatingCalls,
  readAlias,
  reconcilerEnv,
  runCli,
  type Scenario,
  seedScenario,
} from "../support/scenario.ts";
import { STAGING, sourceRoleArn } from "../support/seed.ts";

/** One definition entry for a scenario function, in a group or not. */
const entry = (f: { name: string; desired: { version: string } }, group?: string) =>
  `{ "name": ${JSON.stringify(f.name)}, "version": ${JSON.stringify(f.desired.version)}${group ? `, "group": "${group}"` : ""} }`;

describe("release sets against moto (CLI)", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let dir: string;

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-groups-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
  });
  after(async () => {
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `apply FILE --format json` in production, with the call log emptied first. */
  async function applyJson(scenario: Scenario, file: string): Promise<ChildResult> {
    await moto.resetCalls();
    const env = reconcilerEnv(moto, scenario.production.credentials);
    const settings = ["--allowed-prefix", ALLOWED_PREFIX, "--source-role-arn", sourceRoleArn(STAGING)];
    return runCli(["apply", file, "--auto-approve", "--format", "json", ...settings], { env, cwd: dir });
  }

  it("a group where one member is blocked: no member moves, the outsider does, the run fails naming the group", async () => {
    await moto.resetAll();
    const scenario = await seedScenario(moto);
    try {
      const movable = scenario.byKind("rollforward");
      const missing = scenario.byKind("function-missing");
      const outsider = scenario.byKind("live-on-latest");
      await writeFile(
        join(dir, "groups.json"),
        `{ "lambdas": [\n  ${entry(movable, "orders")},\n  ${entry(missing, "orders")},\n  ${entry(outsider)}\n] }\n`,
      );
      const before = await readAlias(scenario.production, movable.name, "LIVE");
      const run = await applyJson(scenario, "groups.json");
      expect(run.code, run.stderr).to.equal(1);
      const json = JSON.parse(run.stdout) as {
        functions: { name: string; status: string; group?: string; blockCode?: string; error?: string }[];
      };
      const byName = new Map(json.functions.map((f) => [f.name, f]));
      expect(byName.get(movable.name)).to.include({ status: "blocked", group: "orders", blockCode: "group-blocked" });
      expect(byName.get(movable.name)?.error).to.equal(
        `group "orders" does not move: member "${missing.name}" is blocked: function "${missing.name}" does not exist in the target account`,
      );
      expect(byName.get(missing.name)).to.include({ status: "blocked", group: "orders", blockCode: "function-missing" });
      expect(byName.get(outsider.name)).to.include({ status: "applied" });
      expect(byName.get(outsider.name)?.group).to.equal(undefined);
      // The movable member's LIVE is untouched; the only writes are the outsider's.
      expect(await readAlias(scenario.production, movable.name, "LIVE")).to.deep.equal(before);
      const writes = describeCalls(mutatingCalls(await moto.calls()));
      expect(writes.filter((w) => w.includes(movable.name) || w.includes(missing.name))).to.deep.equal([]);
      expect(writes.some((w) => w.includes(outsider.name))).to.equal(true);
    } finally {
      scenario.destroy();
    }
  });

  it("a group with two members to change is not moved one function at a time (fail closed: no write)", async () => {
    await moto.resetAll();
    const scenario = await seedScenario(moto);
    try {
      const forward = scenario.byKind("rollforward");
      const back = scenario.byKind("rollback");
      await writeFile(
        join(dir, "pair.json"),
        `{ "lambdas": [\n  ${entry(forward, "orders")},\n  ${entry(back, "orders")}\n] }\n`,
      );
      const before = await Promise.all([forward, back].map((f) => readAlias(scenario.production, f.name, "LIVE")));
      const run = await applyJson(scenario, "pair.json");
      expect(run.code, run.stderr).to.equal(1);
      const json = JSON.parse(run.stdout) as { functions: { status: string; blockCode?: string }[] };
      expect(json.functions.map((f) => [f.status, f.blockCode])).to.deep.equal([
        ["blocked", "group-apply"],
        ["blocked", "group-apply"],
      ]);
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
      const after = await Promise.all([forward, back].map((f) => readAlias(scenario.production, f.name, "LIVE")));
      expect(after).to.deep.equal(before);
    } finally {
      scenario.destroy();
    }
  });
});
