/**
 * `lambda-gitops publish` end to end: the built CLI as a child process against moto, acting in
 * STAGING (the lowest account) with its credentials; then `apply` in PRODUCTION promotes exactly
 * the published bytes. Every claim about side effects is checked against moto's call log.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetFunctionCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  type ChildResult,
  describeCalls,
  ensureBuilt,
  mutatingCalls,
  readAlias,
  reconcilerEnv,
  runCli,
  s3For,
} from "../support/scenario.ts";
import {
  type AccountWorld,
  account,
  PRODUCTION,
  STAGING,
  seedFunction,
  sourceRoleArn,
  zipOf,
} from "../support/seed.ts";

const PREFIX = "team-a-";
/** Every function's record in publish's JSON document (schemas/publish.schema.json). */
const all = (stdout: string) => (JSON.parse(stdout) as { functions: PublishJson[] }).functions;
/** The one function's record, when one was published. */
const only = (stdout: string): PublishJson => {
  const [one, ...more] = all(stdout);
  expect(more).to.deep.equal([]);
  return one as PublishJson;
};
const ORDERS = "team-a-orders";

interface PublishJson {
  function: string;
  version: string;
  alias: string;
  functionVersion: string | null;
  codeSha256: string;
  action: string;
  error?: string;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");
const build = (name: string, version: string) =>
  zipOf({ "index.js": `exports.handler = async () => ${JSON.stringify({ name, version })};\n` });

describe("publish (dist/cli.mjs) against moto: zip -> staging -> production", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let dir: string;
  let staging: AccountWorld;
  let production: AccountWorld;
  let env: Record<string, string>;

  before(async function () {
    this.timeout(150_000); // a cold `npm run build`
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-publish-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
  });

  after(async () => {
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshWorld(functions: string[] = [ORDERS]): Promise<void> {
    await moto.resetAll();
    staging = await account(moto, STAGING);
    production = await account(moto, PRODUCTION);
    for (const name of functions) {
      await seedFunction(staging, { name, versions: [{ version: "1.0.0" }], live: "1.0.0" });
      await seedFunction(production, { name, versions: [{ version: "1.0.0" }], live: "1.0.0" });
    }
    env = reconcilerEnv(moto, staging.credentials);
    await moto.resetCalls();
  }

  const publish = (...args: string[]): Promise<ChildResult> =>
    runCli(["publish", ...args, "--allowed-prefix", PREFIX], { env, cwd: dir });
  const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

  async function writeZip(file: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, file);
    await writeFile(path, bytes);
    return path;
  }

  async function versionCount(world: AccountWorld, name: string): Promise<number> {
    const out = await world.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    return (out.Versions ?? []).filter((v) => v.Version !== "$LATEST").length;
  }

  async function writes(): Promise<string[]> {
    return describeCalls(mutatingCalls(await moto.calls()));
  }

  describe("one function from a zip", () => {
    const bytes = build(ORDERS, "1.1.0");
    let first: PublishJson;

    before(async () => {
      await freshWorld();
      const zip = await writeZip("orders.zip", bytes);
      const run = await publish(
        "--function", ORDERS, "--version", "1.1.0", "--zip", zip,
        "--runtime", "nodejs22.x", "--handler", "main.handler",
        "--description", "commit 0a1b2c3", "--format", "json",
      );
      expect(run.code, explain(run)).to.equal(0);
      first = only(run.stdout);
    });

    it("publishes a version with the zip's code and configuration, behind alias 1-1-0, and says so in JSON", async () => {
      expect(first).to.deep.equal({
        function: ORDERS,
        version: "1.1.0",
        alias: "1-1-0",
        functionVersion: "2",
        codeSha256: sha256(bytes),
        action: "published",
      });
      expect(await readAlias(staging, ORDERS, "1-1-0")).to.deep.equal({ functionVersion: "2", weights: {} });
      const version = await staging.lambda.send(new GetFunctionCommand({ FunctionName: ORDERS, Qualifier: "2" }));
      expect(version.Configuration?.CodeSha256).to.equal(sha256(bytes));
      expect(version.Configuration?.Runtime).to.equal("nodejs22.x");
      expect(version.Configuration?.Handler).to.equal("main.handler");
      expect(version.Configuration?.Description).to.equal("lambda-gitops 1.1.0: commit 0a1b2c3");
      // The live alias of the lowest account is not publish's business.
      expect(await readAlias(staging, ORDERS, "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });
    });

    it("re-publishing the same zip is a no-op: exit 0, 'unchanged', no write at all", async () => {
      await moto.resetCalls();
      const run = await publish("--function", ORDERS, "--version", "1.1.0", "--zip", join(dir, "orders.zip"), "--format", "json");
      expect(run.code, explain(run)).to.equal(0);
      expect(only(run.stdout).action).to.equal("unchanged");
      expect(only(run.stdout).functionVersion).to.equal("2");
      expect(await writes()).to.deep.equal([]);
      expect(await versionCount(staging, ORDERS)).to.equal(2);
    });

    it("re-publishing different code under the same version is refused, names both hashes, writes nothing", async () => {
      const other = build(ORDERS, "1.1.0-but-different");
      const zip = await writeZip("other.zip", other);
      await moto.resetCalls();
      const run = await publish("--function", ORDERS, "--version", "1.1.0", "--zip", zip);
      expect(run.code, explain(run)).to.equal(1);
      expect(run.stdout).to.include("refused");
      expect(run.stdout).to.include(sha256(bytes));
      expect(run.stdout).to.include(sha256(other));
      expect(run.stdout).to.include("bump the version");
      expect(await writes()).to.deep.equal([]);
    });

    it("then `apply` in production promotes exactly those bytes (CodeSha256 equal)", async () => {
      await writeFile(join(dir, "lambdas.json"), JSON.stringify({ lambdas: [{ name: ORDERS, version: "1.1.0" }] }));
      const run = await runCli(
        ["apply", "lambdas.json", "--auto-approve", "--allowed-prefix", PREFIX, "--source-role-arn", sourceRoleArn(STAGING)],
        { env: reconcilerEnv(moto, production.credentials), cwd: dir },
      );
      expect(run.code, explain(run)).to.equal(0);
      const live = await readAlias(production, ORDERS, "LIVE");
      const promoted = await production.lambda.send(
        new GetFunctionCommand({ FunctionName: ORDERS, Qualifier: live!.functionVersion }),
      );
      expect(promoted.Configuration?.CodeSha256).to.equal(sha256(bytes));
      expect(promoted.Configuration?.Runtime).to.equal("nodejs22.x");
      expect(promoted.Configuration?.Handler).to.equal("main.handler");
      expect(await readAlias(production, ORDERS, "1-1-0")).to.deep.equal(live);
    });
  });

  it("--dry-run prints the steps and changes nothing", async () => {
    await freshWorld();
    const zip = await writeZip("dry.zip", build(ORDERS, "1.5.0"));
    const run = await publish("--function", ORDERS, "--version", "1.5.0", "--zip", zip, "--runtime", "nodejs22.x", "--dry-run");
    expect(run.code, explain(run)).to.equal(0);
    expect(run.stdout).to.include(
      "configure(runtime=nodejs22.x) -> wait -> update-code(x86_64) -> wait -> publish -> create-alias(1-5-0)",
    );
    expect(await writes()).to.deep.equal([]);
    expect(await readAlias(staging, ORDERS, "1-5-0")).to.equal(null);
  });

  it("refuses a function outside the allowed prefixes before any call to AWS", async () => {
    await freshWorld();
    const zip = await writeZip("billing.zip", build("team-b-billing", "1.0.0"));
    const run = await publish("--function", "team-b-billing", "--version", "1.0.0", "--zip", zip);
    expect(run.code, explain(run)).to.equal(1);
    expect(run.stderr).to.include('command line: --function: function "team-b-billing" is outside the allowed prefixes');
    expect(describeCalls(await moto.calls())).to.deep.equal([]);
  });

  it("a manifest publishes several functions concurrently; JSON is an array in manifest order", async () => {
    const names = ["team-a-a", "team-a-b", "team-a-c"];
    await freshWorld(names);
    const lines: string[] = [];
    for (const name of names) {
      await writeZip(`${name}.zip`, build(name, "2.0.0"));
      lines.push(`- function: ${name}`, "  version: 2.0.0", `  zip: ${name}.zip`);
    }
    lines.push("  runtime: nodejs22.x");
    await writeFile(join(dir, "publish.yaml"), `${lines.join("\n")}\n`);
    const run = await publish("--manifest", join(dir, "publish.yaml"), "--description", "build 42", "--format", "json");
    expect(run.code, explain(run)).to.equal(0);
    const results = all(run.stdout);
    expect(results.map((r) => [r.function, r.action, r.functionVersion])).to.deep.equal(
      names.map((name) => [name, "published", "2"]),
    );
    for (const name of names) {
      const out = await staging.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: "2-0-0" }));
      expect(out.Configuration?.CodeSha256, name).to.equal(sha256(build(name, "2.0.0")));
      expect(out.Configuration?.Description, name).to.equal("lambda-gitops 2.0.0: build 42");
      // moto ignores Architectures on UpdateFunctionCode: that guard is tested at the SDK boundary.
      expect(out.Configuration?.Runtime, name).to.equal(name === "team-a-c" ? "nodejs22.x" : "nodejs20.x");
    }
  });

  it("a manifest with a bad entry changes nothing and says where (FILE:LINE:COL)", async () => {
    await freshWorld();
    await writeFile(
      join(dir, "bad.json"),
      `[\n  { "function": "${ORDERS}", "version": "v1.2.0", "zip": "x.zip" }\n]\n`,
    );
    const run = await publish("--manifest", join(dir, "bad.json"));
    expect(run.code, explain(run)).to.equal(1);
    expect(run.stderr).to.include(`${join(dir, "bad.json")}:2:45: [0].version: "v1.2.0" is not a valid semantic version`);
    expect(describeCalls(await moto.calls())).to.deep.equal([]);
  });

  it("a crash between publish and alias: the re-run finishes without a second version", async () => {
    await freshWorld();
    const bytes = build(ORDERS, "1.2.0");
    const zip = await writeZip("crash.zip", bytes);
    // What a run killed right after PublishVersion leaves behind: the code on $LATEST, a version, no alias.
    await staging.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: ORDERS, ZipFile: bytes }));
    const orphan = await staging.lambda.send(new PublishVersionCommand({ FunctionName: ORDERS }));
    expect(await readAlias(staging, ORDERS, "1-2-0")).to.equal(null);
    const before = await versionCount(staging, ORDERS);
    await moto.resetCalls();

    const run = await publish("--function", ORDERS, "--version", "1.2.0", "--zip", zip, "--format", "json");
    expect(run.code, explain(run)).to.equal(0);
    const result = only(run.stdout);
    expect(result).to.include({ action: "published", functionVersion: orphan.Version });
    expect(await versionCount(staging, ORDERS)).to.equal(before);
    expect(await readAlias(staging, ORDERS, "1-2-0")).to.deep.equal({ functionVersion: orphan.Version, weights: {} });
    const written = (await writes()).map((line) => line.split(" ")[1]);
    expect(written, "code already on $LATEST is not uploaded again").to.deep.equal([
      "lambda:PublishVersion",
      "lambda:CreateAlias",
    ]);
  });

  it("--s3: hashes the object, lets Lambda read it from S3, and publishes those bytes", async () => {
    await freshWorld();
    const bytes = build(ORDERS, "1.3.0");
    const s3 = s3For(staging);
    await s3.send(new CreateBucketCommand({ Bucket: "team-a-builds" }));
    await s3.send(new PutObjectCommand({ Bucket: "team-a-builds", Key: "orders/1.3.0.zip", Body: bytes }));
    const run = await publish("--function", ORDERS, "--version", "1.3.0", "--s3", "s3://team-a-builds/orders/1.3.0.zip", "--format", "json");
    expect(run.code, explain(run)).to.equal(0);
    expect(only(run.stdout)).to.include({ action: "published", codeSha256: sha256(bytes) });
    const out = await staging.lambda.send(new GetFunctionCommand({ FunctionName: ORDERS, Qualifier: "1-3-0" }));
    expect(out.Configuration?.CodeSha256).to.equal(sha256(bytes));
  });
});
