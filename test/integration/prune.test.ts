/**
 * `lambda-gitops prune` against moto (test/support/moto_launcher.py refuses, as Lambda does, to
 * delete a version an alias references). One function in the production account: versions 1.0.0 to
 * 1.5.0 (v1..v6), LIVE on 1.5.0 with 10% to 1.4.0, another team's alias on 1.1.0, an unaliased
 * version older than LIVE that lambda-gitops did not publish (seeded with the description "1.2.0",
 * its alias deleted: v3) and one newer (v7, a promotion that crashed before its alias). `--keep 2`
 * keeps v5 and v6 (window, and LIVE), v2 (team-b's alias), v3 (not ours), v7 (newer than LIVE,
 * unaliased) and $LATEST; it deletes 1.0.0 (v1) and 1.3.0 (v4). With event-source mappings on v1
 * and on the alias 1-3-0 (issue 20), it deletes nothing.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  DeleteAliasCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { createLambdaAdapter, type LambdaWriter } from "../../reconciler/aws/lambda.ts";
import { type CliIo, runCli } from "../../reconciler/entry/cli.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { describeCalls, mutatingCalls } from "../support/scenario.ts";
import { type AccountWorld, account, PRODUCTION, seedFunction, zipOf } from "../support/seed.ts";

const NAME = "team-a-orders";

describe("prune against moto: a rollback window that never deletes what serves traffic", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let dir: string;
  let world: AccountWorld;

  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-prune-"));
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await moto.resetAll();
    world = await account(moto, PRODUCTION);
    const { versions } = await seedFunction(world, {
      name: NAME,
      versions: ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"].map((version) => ({ version })),
    });
    const lambda = world.lambda;
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: NAME,
        Name: "LIVE",
        FunctionVersion: versions["1.5.0"]!.functionVersion,
        RoutingConfig: { AdditionalVersionWeights: { [versions["1.4.0"]!.functionVersion]: 0.1 } },
      }),
    );
    await lambda.send(
      new CreateAliasCommand({ FunctionName: NAME, Name: "team-b-pinned", FunctionVersion: versions["1.1.0"]!.functionVersion }),
    );
    await lambda.send(new DeleteAliasCommand({ FunctionName: NAME, Name: "1-2-0" }));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: NAME, ZipFile: zipOf({ "index.js": "// 1.6.0" }) }));
    const v7 = await lambda.send(new PublishVersionCommand({ FunctionName: NAME }));
    expect(v7.Version).to.equal("7");
    await writeFile(join(dir, "lambdas.json"), JSON.stringify({ lambdas: [{ name: NAME, version: "1.5.0" }] }));
    await moto.resetCalls();
  });

  function io(lambda: LambdaWriter = createLambdaAdapter(new LambdaClient(world.clientConfig))) {
    const out = { stdout: "", stderr: "" };
    const cliIo: CliIo = {
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      env: { AWS_REGION: "us-east-1" },
      createAws: () => ({ target: lambda, source: undefined }),
    };
    return { out, cliIo };
  }
  const prune = (cliIo: CliIo, ...args: string[]) =>
    runCli(["prune", join(dir, "lambdas.json"), "--allowed-prefix", "team-a-", "--keep", "2", ...args], cliIo);

  async function versionsLeft(): Promise<string[]> {
    const out = await world.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: NAME }));
    return (out.Versions ?? []).map((v) => v.Version ?? "");
  }
  async function aliasesLeft(): Promise<Record<string, string>> {
    const out = await world.lambda.send(new ListAliasesCommand({ FunctionName: NAME }));
    return Object.fromEntries((out.Aliases ?? []).map((a) => [a.Name ?? "", a.FunctionVersion ?? ""]));
  }

  it("lists exactly the versions outside the window, with why the others stay, and changes nothing", async () => {
    const { out, cliIo } = io();
    const code = await prune(cliIo, "--format", "json");
    expect(code, out.stderr).to.equal(0);
    const plan = JSON.parse(out.stdout) as {
      functions: { delete: { functionVersion: string; aliases: string[]; reason: string }[]; keep: { functionVersion: string; reasons: string[] }[]; steps: unknown[] }[];
    };
    const [fn] = plan.functions;
    expect(fn!.delete.map((d) => [d.functionVersion, d.aliases, d.reason])).to.deep.equal([
      ["1", ["1-0-0"], "outside-window"],
      ["4", ["1-3-0"], "outside-window"],
    ]);
    expect(Object.fromEntries(fn!.keep.map((k) => [k.functionVersion, k.reasons]))).to.deep.equal({
      $LATEST: ["$LATEST (never deleted)"],
      "2": ["foreign-alias team-b-pinned"],
      "3": ["not-published-by-lambda-gitops"],
      "5": ["live-weighted", "window 1.4.0"],
      "6": ["live-primary", "window 1.5.0"],
      "7": ["newer-than-live-unaliased"],
    });
    expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
    expect((await moto.calls()).map((c) => c.operation)).to.deep.equal([
      "ListAliases",
      "ListVersionsByFunction",
      "ListEventSourceMappings",
      "ListProvisionedConcurrencyConfigs",
    ]);
    expect(await versionsLeft()).to.deep.equal(["$LATEST", "1", "2", "3", "4", "5", "6", "7"]);

    const table = io();
    expect(await prune(table.cliIo)).to.equal(0);
    expect(table.out.stdout).to.match(/delete\s+v1 \(1\.0\.0\)\s+outside-window/);
    expect(table.out.stdout).to.match(/2 version\(s\) and 2 version alias\(es\) to delete/);
  });

  it("--delete deletes exactly those, each alias before its version, with qualified deletes only", async () => {
    const { out, cliIo } = io();
    const code = await prune(cliIo, "--delete", "--auto-approve");
    expect(code, out.stderr + out.stdout).to.equal(0);
    const writes = mutatingCalls(await moto.calls()).map((c) => `${c.operation} ${c.path.split("/").slice(4).join("/")} ${c.query}`.trim());
    expect(writes).to.deep.equal([
      "DeleteAlias aliases/1-0-0",
      "DeleteFunction  Qualifier=1",
      "DeleteAlias aliases/1-3-0",
      "DeleteFunction  Qualifier=4",
    ]);
    // 4 reads to plan, then per deleted version one fresh ListAliases before deleting.
    const calls = (await moto.calls()).filter((c) => c.service === "lambda");
    expect(calls.length).to.equal(4 + 2 + 4);

    expect(await versionsLeft()).to.deep.equal(["$LATEST", "2", "3", "5", "6", "7"]);
    expect(await aliasesLeft()).to.deep.equal({
      "1-1-0": "2",
      "1-4-0": "5",
      "1-5-0": "6",
      LIVE: "6",
      "team-b-pinned": "2",
    });
    // A second run has nothing left to delete.
    await moto.resetCalls();
    const again = io();
    expect(await prune(again.cliIo, "--delete", "--auto-approve")).to.equal(0);
    expect(mutatingCalls(await moto.calls())).to.deep.equal([]);
  });

  it("keeps every version an event-source mapping invokes, by version ARN or through an alias (issue 20)", async () => {
    const queue = `arn:aws:sqs:us-east-1:${PRODUCTION}:orders`;
    const byVersion = await world.lambda.send(new CreateEventSourceMappingCommand({ FunctionName: `${NAME}:1`, EventSourceArn: queue }));
    const byAlias = await world.lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: `${NAME}:1-3-0`, EventSourceArn: `${queue}-b` }),
    );
    await moto.resetCalls();
    const { out, cliIo } = io();
    expect(await prune(cliIo, "--delete", "--format", "json"), out.stderr).to.equal(0);
    expect(mutatingCalls(await moto.calls())).to.deep.equal([]);
    const listed = (await moto.calls()).filter((c) => c.operation === "ListEventSourceMappings");
    expect(listed.map((c) => c.query)).to.deep.equal([`FunctionName=${NAME}&MaxItems=100`]);
    expect(await versionsLeft()).to.deep.equal(["$LATEST", "1", "2", "3", "4", "5", "6", "7"]);

    const plan = io();
    expect(await prune(plan.cliIo, "--format", "json")).to.equal(0);
    const [fn] = (JSON.parse(plan.out.stdout) as { functions: { delete: unknown[]; keep: { functionVersion: string; reasons: string[] }[] }[] }).functions;
    expect(fn!.delete).to.deep.equal([]);
    const reasons = Object.fromEntries(fn!.keep.map((k) => [k.functionVersion, k.reasons]));
    expect(reasons["1"]).to.deep.equal([`event-source-mapping ${byVersion.UUID}`]);
    expect(reasons["4"]).to.deep.equal([`event-source-mapping ${byAlias.UUID}`]);
  });

  it("a LIVE moved between the plan and the delete keeps its version and its version alias", async () => {
    // Another operator moves LIVE back to 1.0.0 (v1) right after prune observed the function.
    const real = createLambdaAdapter(new LambdaClient(world.clientConfig));
    const operator = new LambdaClient(world.clientConfig);
    let moved = false;
    const moving: LambdaWriter = {
      ...real,
      async listVersions(name) {
        const versions = await real.listVersions(name);
        if (!moved) {
          moved = true;
          await operator.send(new UpdateAliasCommand({ FunctionName: NAME, Name: "LIVE", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: {} } }));
        }
        return versions;
      },
    };
    const { out, cliIo } = io(moving);
    expect(await prune(cliIo, "--delete", "--auto-approve", "--format", "json"), out.stderr).to.equal(0);
    const report = JSON.parse(out.stdout) as { functions: { kept: { functionVersion: string; keptBecause: string }[] }[] };
    expect(report.functions[0]!.kept.map((k) => [k.functionVersion, k.keptBecause])).to.deep.equal([
      ["1", "alias LIVE now routes to version 1"],
    ]);
    expect(await versionsLeft()).to.include("1");
    expect(await aliasesLeft()).to.include({ "1-0-0": "1", LIVE: "1" });
  });

  it("a LIVE moved after the re-check (the residual race): Lambda refuses, the version alias comes back", async () => {
    const real = createLambdaAdapter(new LambdaClient(world.clientConfig));
    const operator = new LambdaClient(world.clientConfig);
    const moving: LambdaWriter = {
      ...real,
      async deleteAlias(name, alias) {
        if (alias === "1-3-0") {
          await operator.send(new UpdateAliasCommand({ FunctionName: NAME, Name: "LIVE", FunctionVersion: "4", RoutingConfig: { AdditionalVersionWeights: {} } }));
        }
        return real.deleteAlias(name, alias);
      },
    };
    const { out, cliIo } = io(moving);
    expect(await prune(cliIo, "--delete", "--auto-approve", "--format", "json"), out.stderr).to.equal(0);
    const report = JSON.parse(out.stdout) as { functions: { deleted: { functionVersion: string }[]; kept: { functionVersion: string; keptBecause: string }[] }[] };
    expect(report.functions[0]!.deleted.map((d) => d.functionVersion)).to.deep.equal(["1"]);
    expect(report.functions[0]!.kept.map((k) => k.functionVersion)).to.deep.equal(["4"]);
    expect(report.functions[0]!.kept[0]!.keptBecause).to.match(/aliases were restored/);
    expect(await versionsLeft()).to.include("4");
    expect(await aliasesLeft()).to.include({ "1-3-0": "4", LIVE: "4" });
  });

  it("refuses --keep 0 and a missing --keep before any AWS call", async () => {
    for (const args of [["--keep", "0"], ["--keep", "x"]]) {
      const { out, cliIo } = io();
      expect(await runCli(["prune", join(dir, "lambdas.json"), "--allowed-prefix", "team-a-", ...args], cliIo)).to.equal(1);
      expect(out.stderr).to.match(/--keep: a whole number of versions >= 1 is required/);
    }
    const { out, cliIo } = io();
    expect(await runCli(["prune", join(dir, "lambdas.json"), "--allowed-prefix", "team-a-"], cliIo)).to.equal(1);
    expect(out.stderr).to.match(/--keep/);
    expect(await moto.calls()).to.deep.equal([]);
  });
});
