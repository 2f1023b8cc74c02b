/**
 * Tying apply to the plan a reviewer read, through the built CLI against moto: `plan --out` saves
 * it, `apply --plan` applies exactly it, and refuses (writing nothing, in any function) once anything
 * it observed has changed; settings given again must agree; `--target` limits plan and apply.
 * Writes are counted in moto's call log.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateAliasCommand } from "@aws-sdk/client-lambda";
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

const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

describe("saved plans and --target (dist/cli.mjs against moto)", function () {
  this.timeout(90_000);
  let moto: MotoServer;
  let dir: string;
  let scenario: Scenario;
  let env: Record<string, string>;
  const settings = ["--allowed-prefix", ALLOWED_PREFIX, "--source-role-arn", sourceRoleArn(STAGING)];
  const cli = (...args: string[]) => runCli(args, { env, cwd: dir });

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-saved-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
  });
  after(async () => {
    scenario?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshWorld(): Promise<void> {
    scenario?.destroy();
    await moto.resetAll();
    scenario = await seedScenario(moto, ["noop", "rollback", "rollforward", "promote"]);
    env = reconcilerEnv(moto, scenario.production.credentials);
    await writeFile(join(dir, "lambdas.json"), scenario.lambdasJson);
    await moto.resetCalls();
  }

  const writesBy = async () => {
    const writes = mutatingCalls(await moto.calls());
    return [...new Set(writes.map((c) => c.path.split("/")[3]))].sort();
  };

  it("plan --out saves a versioned plan; apply --plan applies exactly it", async () => {
    await freshWorld();
    const plan = await cli("plan", "--out", "plan.json", ...settings);
    expect(plan.code, explain(plan)).to.equal(0);
    expect(plan.stderr).to.include("apply --plan plan.json");
    expect(describeCalls(mutatingCalls(await moto.calls())), "plan --out writes nothing in AWS").to.deep.equal([]);
    const saved = JSON.parse(await readFile(join(dir, "plan.json"), "utf8")) as Record<string, unknown>;
    expect(saved).to.include({ format: "lambda-gitops-plan", version: 2, file: "lambdas.json" });
    expect(saved.target).to.deep.equal({ account: scenario.production.accountId, region: "us-east-1" });
    expect(saved.definition).to.equal(scenario.lambdasJson);

    await moto.resetCalls();
    const apply = await cli("apply", "--plan", "plan.json", "--format", "json");
    expect(apply.code, explain(apply)).to.equal(0);
    const changing = scenario.functions.filter((f) => f.expectedStatus === "applied").map((f) => f.name);
    expect(await writesBy()).to.deep.equal(changing.sort());
    for (const f of scenario.functions) {
      expect(await readAlias(scenario.production, f.name, "LIVE"), f.name).to.deep.equal(f.liveAfterApply);
    }
  });

  it("apply --plan refuses a stale plan, naming the function that changed, and writes nothing at all", async () => {
    await freshWorld();
    const plan = await cli("plan", "--out", "stale.json", ...settings);
    expect(plan.code, explain(plan)).to.equal(0);
    // Someone repoints LIVE of one function after the review.
    const moved = scenario.byKind("rollback");
    const other = Object.values(moved.production ?? {}).find(
      (v) => v.functionVersion !== moved.expectedPlan.liveFunctionVersion,
    );
    await scenario.production.lambda.send(
      new UpdateAliasCommand({ FunctionName: moved.name, Name: "LIVE", FunctionVersion: other?.functionVersion }),
    );
    await moto.resetCalls();
    const apply = await cli("apply", "--plan", "stale.json");
    expect(apply.code, explain(apply)).to.equal(1);
    expect(apply.stderr).to.include("refused, nothing was changed");
    expect(apply.stderr).to.match(new RegExp(`${moved.name}: LIVE changed since the plan`));
    for (const f of scenario.functions.filter((x) => x.name !== moved.name)) {
      expect(apply.stderr, f.name).not.to.include(`${f.name}:`);
    }
    expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
    expect(apply.stdout).to.equal("");
  });

  it("apply --plan refuses settings that disagree with the saved plan, before any AWS call", async () => {
    await freshWorld();
    const plan = await cli("plan", "--out", "agree.json", ...settings);
    expect(plan.code, explain(plan)).to.equal(0);
    await moto.resetCalls();
    const disagree = await cli("apply", "--plan", "agree.json", "--live-alias", "PROD", "--allowed-prefix", "team-b-");
    expect(disagree.code, explain(disagree)).to.equal(1);
    expect(disagree.stderr).to.include("--live-alias PROD: the saved plan was made with LIVE");
    expect(disagree.stderr).to.include("--allowed-prefix team-b-: the saved plan was made with team-a-");
    expect(describeCalls(await moto.calls())).to.deep.equal([]);
    const agree = await cli("apply", "--plan", "agree.json", "--live-alias", "LIVE", ...settings);
    expect(agree.code, explain(agree)).to.equal(0);
  });

  it("--target limits plan and apply to the named functions, and suggests a misspelt one", async () => {
    await freshWorld();
    const search = scenario.byKind("rollforward").name;
    const payments = scenario.byKind("rollback").name;
    const plan = await cli("plan", "--target", search, "--target", payments, "--format", "json", ...settings);
    expect(plan.code, explain(plan)).to.equal(0);
    const names = (JSON.parse(plan.stdout) as { functions: { name: string }[] }).functions.map((f) => f.name);
    expect(names).to.deep.equal([payments, search].sort());

    await moto.resetCalls();
    const apply = await cli("apply", "--auto-approve", "--target", search, ...settings);
    expect(apply.code, explain(apply)).to.equal(0);
    expect(await writesBy()).to.deep.equal([search]);
    expect(await readAlias(scenario.production, payments, "LIVE")).to.deep.equal({
      functionVersion: scenario.byKind("rollback").expectedPlan.liveFunctionVersion,
      weights: {},
    });

    await moto.resetCalls();
    const typo = await cli("plan", "--target", "team-a-serch", ...settings);
    expect(typo.code, explain(typo)).to.equal(1);
    expect(typo.stderr).to.include("--target team-a-serch: no function of that name in lambdas.json; did you mean team-a-search?");
    expect(describeCalls(await moto.calls())).to.deep.equal([]);
  });
});
