/**
 * The built CLI (`node dist/cli.mjs`) in the moments that matter in production, as a child process
 * against moto: confirmation (refused without a terminal, asked on a pseudo-terminal), real
 * SIGINT/SIGTERM against a running apply (a write held in flight by the AWS proxy), one error for
 * the wrong Region, progress without a terminal, status as a drift gate, --profile, and errors
 * worded the same way by every command. Stdin is closed (not a terminal) unless a test says so.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { z } from "zod";
import { type AwsProxy, type ProxyCall, startAwsProxy } from "../support/aws-proxy.ts";
import { spawnCli } from "../support/fleet.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import {
  type ChildResult,
  describeCalls,
  ensureBuilt,
  mutatingCalls,
  PROJECT_ROOT,
  readAlias,
  reconcilerEnv,
  runCli,
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
import { runOnTerminal } from "../support/terminal.ts";

const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
const PREFIX = ["--allowed-prefix", "team-a-"];
const HEADER = `Target: account ${PRODUCTION}, Region us-east-1`;

describe("CLI in production (dist/cli.mjs): confirmation, interrupts, the wrong place, gates", function () {
  this.timeout(120_000);
  let moto: MotoServer;
  let proxy: AwsProxy;
  let production: AccountWorld;
  let dir: string;
  let hook: ((call: ProxyCall) => Promise<"pass" | "hold">) | undefined;
  const offline: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-production-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
    production = await account(moto, PRODUCTION);
    proxy = await startAwsProxy({
      upstream: moto.endpoint,
      quotas: false,
      hooks: { beforeResponse: (call) => hook?.(call) ?? Promise.resolve("pass") },
    });
  });
  after(async () => {
    hook = undefined;
    await proxy?.stop();
    production?.lambda.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    hook = undefined;
  });

  const env = () => reconcilerEnv(moto, production.credentials);

  /** Functions with 1.0.0 (v1) and 1.1.0 (v2) published here, LIVE on 1.0.0. */
  async function seed(...names: string[]): Promise<void> {
    for (const name of names) {
      await seedFunction(production, { name, versions: [{ version: "1.0.0" }, { version: "1.1.0" }], live: "1.0.0" });
    }
  }

  /** A folder with a lambdas.json declaring `definition`. */
  async function folder(name: string, definition: unknown, files: Record<string, string> = {}): Promise<string> {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, "lambdas.json"), JSON.stringify(definition));
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
    return path;
  }

  const lambdas = (names: string[], version: string) => ({ lambdas: names.map((name) => ({ name, version })) });

  describe("confirmation", () => {
    it("apply without a terminal and without --auto-approve refuses in one line, names the account, changes nothing", async () => {
      await seed("team-a-confirm");
      const cwd = await folder("confirm", lambdas(["team-a-confirm"], "1.1.0"));
      await moto.resetCalls();
      const run = await runCli(["apply", ...PREFIX], { env: env(), cwd });
      expect(run.code, explain(run)).to.equal(1);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.include(HEADER);
      expect(run.stderr).to.include("File:   lambdas.json");
      const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
      expect(errors, explain(run)).to.deep.equal([
        "lambda-gitops apply: error: refused, nothing was changed: no terminal to confirm on; review with 'lambda-gitops plan --out FILE' and apply that with 'apply --plan FILE', or add --auto-approve",
      ]);
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
      expect(await readAlias(production, "team-a-confirm", "LIVE")).to.deep.equal({ functionVersion: "1", weights: {} });

      const approved = await runCli(["apply", "--auto-approve", ...PREFIX], { env: env(), cwd });
      expect(approved.code, explain(approved)).to.equal(0);
      expect(approved.stderr).to.include(HEADER);
      expect(await readAlias(production, "team-a-confirm", "LIVE")).to.deep.equal({ functionVersion: "2", weights: {} });
    });

    it("prune --delete: refused without a terminal, asked on one (--target limits it; no v$LATEST)", async () => {
      await seedFunction(production, {
        name: "team-a-prunable",
        versions: [{ version: "1.0.0" }, { version: "1.1.0" }, { version: "1.2.0" }],
        live: "1.2.0",
      });
      await seed("team-a-untouched");
      const cwd = await folder("prune", { lambdas: [{ name: "team-a-prunable", version: "1.2.0" }, { name: "team-a-untouched", version: "1.0.0" }] });
      const prune = ["prune", "--keep", "1", "--target", "team-a-prunable", ...PREFIX];

      const listing = await runCli(prune, { env: env(), cwd });
      expect(listing.code, explain(listing)).to.equal(0);
      expect(listing.stdout).to.include("team-a-prunable");
      expect(listing.stdout).not.to.include("team-a-untouched");
      expect(listing.stdout).to.match(/keep\s+\$LATEST\s/);
      expect(listing.stdout).not.to.include("v$LATEST");

      await moto.resetCalls();
      const refused = await runCli([...prune, "--delete"], { env: env(), cwd });
      expect(refused.code, explain(refused)).to.equal(1);
      expect(refused.stderr).to.include(HEADER);
      expect(refused.stderr).to.include("lambda-gitops prune: error: refused, nothing was deleted: no terminal to confirm on");
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);

      const no = await runOnTerminal([...prune, "--delete"], { ...env(), NO_COLOR: "1" }, cwd, "no\n");
      expect(no.code, explain(no)).to.equal(1);
      expect(no.stdout).to.include(HEADER);
      expect(no.stdout).to.match(/delete\s+v1 \(1\.0\.0\)/);
      expect(no.stdout).to.include(`Delete these 2 version(s) in account ${PRODUCTION}? Only 'yes' is accepted`);
      expect(no.stdout).to.include("Deletion cancelled: nothing was changed.");
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);

      const yes = await runOnTerminal([...prune, "--delete"], { ...env(), NO_COLOR: "1" }, cwd, "yes\n");
      expect(yes.code, explain(yes)).to.equal(0);
      const writes = mutatingCalls(await moto.calls()).map((c) => `${c.operation} ${c.path.split("/")[3]}`);
      expect(writes).to.include("DeleteFunction team-a-prunable");
      expect(writes.filter((w) => w.includes("team-a-untouched"))).to.deep.equal([]);
    });
  });

  describe("interrupts (a real signal against the running CLI)", () => {
    /** Holds the first LIVE write until `release()`: a guarded write in flight. */
    function holdFirstWrite(): { reached: Promise<void>; release: () => void } {
      let reachedResolve!: () => void;
      let releaseResolve!: () => void;
      const reached = new Promise<void>((r) => (reachedResolve = r));
      const released = new Promise<void>((r) => (releaseResolve = r));
      let held = false;
      hook = async (call) => {
        if (call.operation === "UpdateAlias" && !held) {
          held = true;
          reachedResolve();
          await released;
        }
        return "pass";
      };
      return { reached, release: releaseResolve };
    }

    function startApply(cwd: string, ...extra: string[]) {
      const run = spawnCli(["apply", "--auto-approve", "--concurrency", "1", ...PREFIX, ...extra], {
        env: { ...env(), AWS_ENDPOINT_URL: proxy.endpoint },
        cwd,
      });
      let stderr = "";
      const waiters: { pattern: RegExp; resolve: () => void }[] = [];
      run.child.stderr!.on("data", (chunk: Buffer | string) => {
        stderr += String(chunk);
        for (const w of waiters.filter((x) => x.pattern.test(stderr))) w.resolve();
      });
      const stderrShows = (pattern: RegExp) =>
        pattern.test(stderr) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pattern, resolve }));
      return { ...run, stderrShows };
    }

    it("the first SIGINT starts no new function, lets the write in flight finish, says what is left, exits 130", async () => {
      const names = ["team-a-int-1", "team-a-int-2", "team-a-int-3"];
      await seed(...names);
      const cwd = await folder("interrupt", lambdas(names, "1.1.0"));
      const held = holdFirstWrite();
      const run = startApply(cwd);
      await held.reached;
      run.child.kill("SIGINT");
      await run.stderrShows(/Interrupt received/);
      // The write in flight is still held: the process waits for it rather than exiting.
      expect(run.child.exitCode).to.equal(null);
      held.release();
      const result = await run.done;
      expect(result.code, explain(result)).to.equal(130);
      expect(result.stderr).to.include(
        "Interrupted: 2 functions not started, 0 rollouts left at their step; run apply again to continue",
      );
      const lives = await Promise.all(names.map((n) => readAlias(production, n, "LIVE")));
      expect(lives.filter((l) => l?.functionVersion === "2")).to.have.length(1);
      expect(lives.filter((l) => l?.functionVersion === "1")).to.have.length(2);
      const writes = proxy.stats().calls.filter((c) => c.operation === "UpdateAlias");
      expect(writes).to.have.length(1);

      const again = await runCli(["apply", "--auto-approve", ...PREFIX], { env: env(), cwd });
      expect(again.code, explain(again)).to.equal(0);
      for (const name of names) {
        expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "2", weights: {} });
      }
    });

    it("a second signal exits at once (130) while a write is still in flight; the next apply converges", async () => {
      const names = ["team-a-twice-1", "team-a-twice-2"];
      await seed(...names);
      const cwd = await folder("twice", lambdas(names, "1.1.0"));
      const held = holdFirstWrite();
      const run = startApply(cwd);
      await held.reached;
      run.child.kill("SIGTERM");
      await run.stderrShows(/SIGTERM received/);
      run.child.kill("SIGTERM");
      const result = await run.done;
      held.release();
      expect(result.code, explain(result)).to.equal(130);
      expect(result.stderr).not.to.include("Interrupted:");
      const again = await runCli(["apply", "--auto-approve", ...PREFIX], { env: env(), cwd });
      expect(again.code, explain(again)).to.equal(0);
      for (const name of names) {
        expect(await readAlias(production, name, "LIVE")).to.deep.equal({ functionVersion: "2", weights: {} });
      }
    });

    it("during a rollout's wait, SIGINT leaves the rollout at its step and says so (exit 130, not 'applied')", async () => {
      const names = ["team-a-roll-1", "team-a-roll-2"];
      await seed(...names);
      const cwd = await folder("rollout", { rollout: { steps: [50], interval: "1h" }, ...lambdas(names, "1.1.0") });
      const run = startApply(cwd);
      await run.stderrShows(/shifted to 50%/);
      run.child.kill("SIGINT");
      const result = await run.done;
      expect(result.code, explain(result)).to.equal(130);
      expect(result.stderr).to.include(
        "Interrupted: 1 function not started, 1 rollout left at their step; run apply again to continue",
      );
      const lives = await Promise.all(names.map((n) => readAlias(production, n, "LIVE")));
      expect(lives).to.deep.include({ functionVersion: "1", weights: { "2": 0.5 } });
      expect(lives).to.deep.include({ functionVersion: "1", weights: {} });
    });
  });

  describe("the wrong place, progress, gates", () => {
    it("none of the declared functions in the Region: one error naming account and Region, for plan, apply, status, prune", async () => {
      await seed("team-a-here-1", "team-a-here-2");
      const cwd = await folder("elsewhere", lambdas(["team-a-here-1", "team-a-here-2"], "1.0.0"));
      for (const command of [["plan"], ["apply", "--auto-approve"], ["status"], ["prune", "--keep", "2"]]) {
        await moto.resetCalls();
        const run = await runCli([...command, ...PREFIX, "--region", "eu-west-1"], { env: env(), cwd });
        expect(run.code, explain(run)).to.equal(1);
        expect(run.stdout, explain(run)).to.equal("");
        const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
        expect(errors, explain(run)).to.deep.equal([
          `lambda-gitops ${command[0]}: error: none of the 2 declared functions exist in ${PRODUCTION} eu-west-1: wrong Region, account or credentials?`,
        ]);
        expect(run.stderr).not.to.include("team-a-here-1");
        expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
      }
    });

    it("without a terminal, apply prints one progress line per function as it settles, on stderr", async () => {
      await seed("team-a-progress-1", "team-a-progress-2");
      const cwd = await folder("progress", lambdas(["team-a-progress-1", "team-a-progress-2"], "1.1.0"));
      const run = await runCli(["apply", "--auto-approve", ...PREFIX], { env: env(), cwd });
      expect(run.code, explain(run)).to.equal(0);
      const progress = run.stderr.split("\n").filter((l) => /^\[\d\/2\] /.test(l));
      expect(progress, explain(run)).to.have.length(2);
      expect(progress.join("\n")).to.match(/\[1\/2\] team-a-progress-\d {2}applied {2}rollforward: LIVE/);
      expect(run.stderr).not.to.include("\u001b[");
      const forced = await runCli(["apply", "--auto-approve", ...PREFIX], { env: { ...env(), FORCE_COLOR: "1" }, cwd });
      expect(forced.stderr, explain(forced)).to.include("\u001b[");
    });

    it("status is a drift gate: a promotion waiting for a source role is pending; --detailed-exitcode 0 / 2 / 1", async () => {
      await seed("team-a-gate");
      const inSync = await folder("gate-in-sync", lambdas(["team-a-gate"], "1.0.0"));
      const synced = await runCli(["status", "--detailed-exitcode", ...PREFIX], { env: env(), cwd: inSync });
      expect(synced.code, explain(synced)).to.equal(0);

      const pending = await folder("gate-pending", lambdas(["team-a-gate"], "1.5.0"));
      const table = await runCli(["status", "--detailed-exitcode", ...PREFIX], { env: env(), cwd: pending });
      expect(table.code, explain(table)).to.equal(2);
      expect(table.stdout).to.match(/team-a-gate .* pending: version 1\.5\.0/);
      const json = await runCli(["status", "--detailed-exitcode", "--format", "json", ...PREFIX], { env: env(), cwd: pending });
      expect(json.code, explain(json)).to.equal(2);
      const status = JSON.parse(json.stdout) as { functions: { name: string; state: string }[] };
      expect(status.functions.find((f) => f.name === "team-a-gate")?.state).to.equal("pending");
      const plain = await runCli(["status", ...PREFIX], { env: env(), cwd: pending });
      expect(plain.code, explain(plain)).to.equal(0);

      const broken = await folder("gate-error", lambdas(["team-a-gate"], "1.0.0"), {});
      const unreadable = await runCli(["status", "--detailed-exitcode", ...PREFIX, "--target", "team-a-nope"], { env: env(), cwd: broken });
      expect(unreadable.code, explain(unreadable)).to.equal(1);
    });

    it("--profile picks the named profile (as the AWS CLI does); an unknown one is one error", async () => {
      await seed("team-a-profiled");
      const credentials = join(dir, "credentials");
      const { credentials: c } = production;
      await writeFile(
        credentials,
        `[ci]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n${c.sessionToken ? `aws_session_token = ${c.sessionToken}\n` : ""}`,
      );
      const withoutKeys = Object.fromEntries(
        Object.entries(env()).filter(([k]) => !/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(k)),
      );
      const profiled = { ...withoutKeys, AWS_SHARED_CREDENTIALS_FILE: credentials };
      const cwd = await folder("profiled", lambdas(["team-a-profiled"], "1.0.0"));
      const run = await runCli(["plan", "--profile", "ci", ...PREFIX], { env: profiled, cwd });
      expect(run.code, explain(run)).to.equal(0);
      expect(run.stdout.split("\n")[0]).to.equal(HEADER);
      const unknown = await runCli(["plan", "--profile", "nope", ...PREFIX], { env: profiled, cwd });
      expect(unknown.code, explain(unknown)).to.equal(1);
      expect(unknown.stderr).to.match(/^lambda-gitops plan: error: .*nope/);
    });
  });

  describe("versioned JSON documents", () => {
    async function schemaOf(command: string): Promise<z.ZodType> {
      const text = await readFile(join(PROJECT_ROOT, "schemas", `${command}.schema.json`), "utf8");
      return z.fromJSONSchema(JSON.parse(text) as Parameters<typeof z.fromJSONSchema>[0]);
    }

    it("every --format json output carries schemaVersion 1, target and source, a summary, and validates against its schema file", async () => {
      await seedFunction(production, {
        name: "team-a-json",
        versions: [{ version: "1.0.0" }, { version: "1.1.0" }, { version: "1.2.0" }],
        live: "1.0.0",
      });
      const cwd = await folder("json", lambdas(["team-a-json"], "1.1.0"));
      await writeFile(join(cwd, "build.zip"), zipOf({ "index.js": "exports.handler = async () => 'json';\n" }));
      const json = ["--format", "json", ...PREFIX];
      const publish = ["publish", "--function", "team-a-json", "--version", "1.3.0", "--zip", "build.zip", ...json];
      const runs: [string, string[]][] = [
        ["validate", ["validate", ...json]],
        ["plan", ["plan", "--source-role-arn", sourceRoleArn(STAGING), ...json]],
        ["status", ["status", ...json]],
        ["apply", ["apply", "--auto-approve", ...json]],
        ["prune", ["prune", "--keep", "1", ...json]],
        ["prune", ["prune", "--keep", "1", "--delete", "--auto-approve", ...json]],
        ["publish", [...publish, "--dry-run"]],
        ["publish", publish],
      ];
      for (const [command, args] of runs) {
        const run = await runCli(args, { env: env(), cwd });
        expect(run.code, `${args.join(" ")}\n${explain(run)}`).to.equal(0);
        const document = JSON.parse(run.stdout) as Record<string, unknown>;
        const checked = (await schemaOf(command)).safeParse(document);
        expect(checked.success, `${args.join(" ")}: ${JSON.stringify(checked.error?.issues)}`).to.equal(true);
        expect(document).to.include({ schemaVersion: 1, command });
        expect(document.summary, args.join(" ")).to.be.an("object");
        if (command === "validate") {
          expect(document).to.include({ target: null, source: null });
        } else {
          expect(document.target, args.join(" ")).to.include({ account: PRODUCTION, region: "us-east-1" });
        }
      }
      const plan = JSON.parse((await runCli(runs[1]![1], { env: env(), cwd })).stdout) as {
        source: unknown;
        functions: { key: { account: string } }[];
      };
      expect(plan.source).to.deep.equal({ account: STAGING, region: "us-east-1", roleArn: sourceRoleArn(STAGING) });
      // Accounts by id, never by a label such as "target".
      expect(plan.functions[0]?.key.account).to.equal(PRODUCTION);
      const status = JSON.parse((await runCli(runs[2]![1], { env: env(), cwd })).stdout) as {
        functions: { live: unknown }[];
        summary: Record<string, number>;
      };
      expect(status.functions[0]?.live).to.deep.equal({ functionVersion: "2", version: "1.1.0", weights: {} });
      expect(status.summary).to.deep.equal({ "in-sync": 1, drift: 0, pending: 0, blocked: 0, changedOutside: 0 });
    });
  });

  describe("errors, the same way from every command (offline)", () => {
    it("validate with no file names validate; a publish manifest's wrong type is located, in our words", async () => {
      const empty = await folder("no-file", { lambdas: [] });
      await rm(join(empty, "lambdas.json"));
      const none = await runCli(["validate", ...PREFIX], { env: offline, cwd: empty });
      expect(none.code, explain(none)).to.equal(1);
      expect(none.stderr).to.equal(
        "lambda-gitops validate: error: no definition file here: expected one of lambdas.json, lambdas.yaml, lambdas.yml (or name it: lambda-gitops validate FILE)\n",
      );

      const cwd = await folder("manifest", { lambdas: [] }, { "m.json": '[{"function": "team-a-x", "version": 1.2, "zip": 7}]\n' });
      const run = await runCli(["publish", "--manifest", "m.json", ...PREFIX], { env: offline, cwd });
      expect(run.code, explain(run)).to.equal(1);
      expect(run.stderr).to.include('m.json:1:38: [0].version: expected a version string such as "1.4.2", found the number 1.2');
      expect(run.stderr).to.include("m.json:1:50: [0].zip: expected a path to the zip (a string), found the number 7");
      expect(run.stderr).not.to.match(/Invalid input|received/);

      const flags = await runCli(["publish", "--function", "team-a-x", "--version", "1.0.0", "--zp", "a.zip", ...PREFIX], { env: offline, cwd });
      expect(flags.code, explain(flags)).to.equal(1);
      expect(flags.stderr).to.equal(
        "lambda-gitops publish: unknown flag --zp: did you mean --zip?\nRun 'lambda-gitops publish --help' for usage.\n",
      );
    });
  });
});
