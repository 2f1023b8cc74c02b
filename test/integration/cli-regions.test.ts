/**
 * The built CLI with a definition that lists Regions: a run acts in its Region (--region), leaves
 * the other Regions' entries alone and says so, refuses a Region the file does not declare, and
 * reports a typo'd Region with its position and a suggestion, before any AWS call.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { MOTO_REGION, type MotoServer, startMoto } from "../support/moto.ts";
import {
  ALLOWED_PREFIX,
  type ChildResult,
  ensureBuilt,
  reconcilerEnv,
  runCli,
  type Scenario,
  seedScenario,
} from "../support/scenario.ts";
import { STAGING, sourceRoleArn } from "../support/seed.ts";

describe("CLI (dist/cli.mjs) against moto: a definition with Regions", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let dir: string;
  let scenario: Scenario;
  let env: Record<string, string>;

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-cli-regions-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    scenario = await seedScenario(moto, ["promote", "rollback"]);
    const q = JSON.stringify;
    const entries = scenario.functions.map((f) => `    { "name": ${q(f.name)}, "version": ${q(f.desired.version)} }`);
    const file = [
      "{",
      `  "regions": ["${MOTO_REGION}", "eu-west-1"],`,
      '  "lambdas": [',
      `${entries.join(",\n")},`,
      '    { "name": "team-a-eu-only", "version": "1.0.0", "regions": ["eu-west-1"] }',
      "  ]",
      "}",
      "",
    ].join("\n");
    await writeFile(join(dir, "lambdas.json"), file);
    await writeFile(
      join(dir, "typo.json"),
      '{\n  "regions": ["us-east-1", "eu-wset-1"],\n  "lambdas": []\n}\n',
    );
    env = reconcilerEnv(moto, scenario.production.credentials);
  });

  after(async () => {
    scenario?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => moto.resetCalls());

  const settings = ["--allowed-prefix", ALLOWED_PREFIX, "--source-role-arn", sourceRoleArn(STAGING)];
  const cli = (...args: string[]): Promise<ChildResult> => runCli([...args, ...settings], { env, cwd: dir });
  const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

  it("--region narrows to that Region's entries, says which it left, and calls no other Region", async () => {
    const run = await cli("plan", "lambdas.json", "--region", MOTO_REGION, "--format", "json");
    const plan = JSON.parse(run.stdout) as { functions: { name: string }[] };
    expect(plan.functions.map((f) => f.name).sort(), explain(run)).to.deep.equal(
      scenario.functions.map((f) => f.name).sort(),
    );
    expect(run.stderr).to.include("3 functions in eu-west-1 are left to the reconciler there.");
    const regions = new Set((await moto.calls()).map((c) => c.region).filter((r) => r !== null));
    expect([...regions]).to.deep.equal([MOTO_REGION]);
  });

  it("--region naming a Region the file does not declare is an error, before any AWS call", async () => {
    const run = await cli("plan", "lambdas.json", "--region", "us-west-2");
    expect(run.code, explain(run)).to.not.equal(0);
    expect(run.stderr).to.include("lambdas.json does not declare Region us-west-2 (it declares eu-west-1, us-east-1)");
    expect(await moto.calls()).to.deep.equal([]);
  });

  it("a typo'd Region is reported with file, line, column and a suggestion, before any AWS call", async () => {
    const run = await cli("validate", "typo.json", "--region", MOTO_REGION);
    expect(run.code, explain(run)).to.not.equal(0);
    expect(run.stderr).to.include(
      'typo.json:2:28: regions[1]: "eu-wset-1" is not a Region the AWS SDK knows: did you mean "eu-west-1"?',
    );
    expect(await moto.calls()).to.deep.equal([]);
  });
});
