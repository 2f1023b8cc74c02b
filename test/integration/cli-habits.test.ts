/**
 * The built CLI (`node dist/cli.mjs`) as a platform engineer meets it: --version, help per command,
 * did-you-mean, usage errors in our words, the default definition file, preflight failures as one
 * error each, and output free of escape codes where there is no terminal or NO_COLOR is set. Runs
 * as a child process against moto; a pseudo-terminal (util-linux `script`) stands in for a terminal.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateAliasCommand } from "@aws-sdk/client-lambda";
import { expect } from "chai";
import { encodeMarker } from "../../reconciler/observe/marker.ts";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { closedPort } from "../support/net.ts";
import {
  ALLOWED_PREFIX,
  type ChildResult,
  describeCalls,
  ensureBuilt,
  lambdasJsonOf,
  mutatingCalls,
  PROJECT_ROOT,
  reconcilerEnv,
  runCli,
  type Scenario,
  seedScenario,
} from "../support/scenario.ts";
import { STAGING, sourceRoleArn } from "../support/seed.ts";
import { runOnTerminal } from "../support/terminal.ts";

const ESC = "\u001b[";
const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

describe("CLI habits (dist/cli.mjs)", function () {
  this.timeout(60_000);
  let dir: string;
  const offline: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };

  before(async function () {
    this.timeout(150_000);
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-habits-"));
    await ensureBuilt();
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh empty folder under `dir`. */
  async function folder(name: string, files: Record<string, string> = {}): Promise<string> {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
    return path;
  }

  describe("offline", () => {
    it("--version prints package.json's version and exits 0", async () => {
      const { version } = JSON.parse(await readFile(join(PROJECT_ROOT, "package.json"), "utf8")) as {
        version: string;
      };
      for (const flag of ["--version", "-V"]) {
        const run = await runCli([flag], { env: offline, cwd: dir });
        expect(run.code, explain(run)).to.equal(0);
        expect(run.stdout).to.equal(`lambda-gitops ${version}\n`);
        expect(run.stderr).to.equal("");
      }
    });

    it("help COMMAND and COMMAND --help print that command's own options", async () => {
      const plan = await runCli(["plan", "--help"], { env: offline, cwd: dir });
      const helpPlan = await runCli(["help", "plan"], { env: offline, cwd: dir });
      const apply = await runCli(["apply", "-h"], { env: offline, cwd: dir });
      for (const run of [plan, helpPlan, apply]) expect(run.code, explain(run)).to.equal(0);
      expect(plan.stdout).to.equal(helpPlan.stdout);
      expect(plan.stdout).to.match(/^Usage: lambda-gitops plan /);
      expect(plan.stdout).to.include("--detailed-exitcode");
      expect(apply.stdout).to.match(/^Usage: lambda-gitops apply /);
      expect(apply.stdout).not.to.include("--detailed-exitcode");
      const global = await runCli(["--help"], { env: offline, cwd: dir });
      expect(global.stdout).to.include("Commands:");
      expect(global.stdout).not.to.equal(plan.stdout);
    });

    it("suggests the flag or command meant, in our words (no parseArgs TypeError)", async () => {
      const cases: [string[], string][] = [
        [["plan", "--concurency", "2"], "unknown flag --concurency: did you mean --concurrency?"],
        [["apply", "--allowed-prefx", "team-a-"], "unknown flag --allowed-prefx: did you mean --allowed-prefix?"],
        [["plna"], 'unknown command "plna": did you mean "plan"?'],
        [["plan", "--format"], "--format needs a value"],
        [["plan", "--detailed-exitcode=yes"], "--detailed-exitcode takes no value"],
        [["apply", "--format", "markdown", "--allowed-prefix", "a-"], "apply has no --format markdown: it prints table, json"],
        [["validate", "a.json", "b.json"], 'unexpected argument "b.json"'],
      ];
      for (const [args, message] of cases) {
        const run = await runCli(args, { env: offline, cwd: dir });
        expect(run.code, explain(run)).to.equal(1);
        expect(run.stderr, args.join(" ")).to.include(message);
        expect(run.stderr, args.join(" ")).not.to.match(/TypeError|ERR_PARSE_ARGS|at .*\.mjs:\d+/);
      }
    });

    it("--concurrency abc asks for a whole number; comma-separated prefixes are each allowed", async () => {
      const cwd = await folder("prefixes", {
        "lambdas.json": lambdasJsonOf([
          { name: "team-a-orders", desired: { version: "1.0.0" } },
          { name: "team-b-billing", desired: { version: "2.0.0" } },
        ]),
      });
      const bad = await runCli(["validate", "--allowed-prefix", "team-a-", "--concurrency", "abc"], {
        env: offline,
        cwd,
      });
      expect(bad.code, explain(bad)).to.equal(1);
      expect(bad.stderr).to.include('command line: --concurrency: wants a whole number, e.g. 4 (found "abc")');
      const both = await runCli(["validate", "--allowed-prefix", "team-a-,team-b-"], { env: offline, cwd });
      expect(both.code, explain(both)).to.equal(0);
      expect(both.stdout).to.equal("lambdas.json: 2 function(s) valid and allowed.\n");
      const one = await runCli(["validate", "--allowed-prefix", "team-a-"], { env: offline, cwd });
      expect(one.code, explain(one)).to.equal(1);
      expect(one.stderr).to.include('function "team-b-billing" is outside the allowed prefixes');
    });

    it("FILE defaults to the one of lambdas.json, lambdas.yaml, lambdas.yml present; none or two is an error", async () => {
      const yaml = "lambdas:\n  - name: team-a-orders\n    version: 1.0.0\n";
      const onlyYaml = await folder("only-yaml", { "lambdas.yaml": yaml });
      const run = await runCli(["validate", "--allowed-prefix", ALLOWED_PREFIX], { env: offline, cwd: onlyYaml });
      expect(run.code, explain(run)).to.equal(0);
      expect(run.stdout).to.equal("lambdas.yaml: 1 function(s) valid and allowed.\n");

      const empty = await folder("empty");
      const none = await runCli(["validate", "--allowed-prefix", ALLOWED_PREFIX], { env: offline, cwd: empty });
      expect(none.code, explain(none)).to.equal(1);
      expect(none.stderr).to.include("lambdas.json, lambdas.yaml, lambdas.yml");

      const two = await folder("two", { "lambdas.yml": yaml, "lambdas.json": '{"lambdas":[]}' });
      const ambiguous = await runCli(["validate", "--allowed-prefix", ALLOWED_PREFIX], { env: offline, cwd: two });
      expect(ambiguous.code, explain(ambiguous)).to.equal(1);
      expect(ambiguous.stderr).to.include("lambdas.json and lambdas.yml both exist here");
      expect(ambiguous.stdout).to.equal("");
    });

    it("validate --format json says valid or lists the problems", async () => {
      const cwd = await folder("validate-json", {
        "good.json": lambdasJsonOf([{ name: "team-a-orders", desired: { version: "1.0.0" } }]),
        "bad.json": '{ "lambdas": [ { "name": "team-a-orders", "version": "v1.0.0" } ] }\n',
      });
      const good = await runCli(["validate", "good.json", "--allowed-prefix", ALLOWED_PREFIX, "--format", "json"], {
        env: offline,
        cwd,
      });
      expect(good.code, explain(good)).to.equal(0);
      expect(JSON.parse(good.stdout)).to.deep.equal({
        schemaVersion: 1,
        command: "validate",
        target: null,
        source: null,
        file: "good.json",
        valid: true,
        functions: ["team-a-orders"],
        problems: [],
        summary: { functions: 1, problems: 0 },
      });
      const bad = await runCli(["validate", "bad.json", "--allowed-prefix", ALLOWED_PREFIX, "--format", "json"], {
        env: offline,
        cwd,
      });
      expect(bad.code, explain(bad)).to.equal(1);
      const answer = JSON.parse(bad.stdout) as { valid: boolean; problems: { path: string; line: number }[] };
      expect(answer.valid).to.equal(false);
      expect(answer.problems.map((p) => p.path)).to.deep.equal(["lambdas[0].version"]);
    });
  });

  describe("against moto", () => {
    let moto: MotoServer;
    let scenario: Scenario;
    let env: Record<string, string>;
    let cwd: string;
    const settings = ["--allowed-prefix", ALLOWED_PREFIX, "--source-role-arn", sourceRoleArn(STAGING)];

    before(async function () {
      this.timeout(120_000);
      moto = await startMoto();
      scenario = await seedScenario(moto, ["noop", "rollback", "promote", "live-missing"]);
      env = reconcilerEnv(moto, scenario.production.credentials);
      cwd = await folder("moto", { "lambdas.json": scenario.lambdasJson });
    });
    after(async () => {
      scenario?.destroy();
      await moto?.stop();
    });
    beforeEach(() => moto.resetCalls());

    /** One error line and its fix, exit 1, and not one Lambda call. */
    async function expectOnePreflightError(run: ChildResult, needle: string): Promise<void> {
      expect(run.code, explain(run)).to.equal(1);
      expect(run.stdout, explain(run)).to.equal("");
      const lines = run.stderr.trim().split("\n");
      expect(lines, explain(run)).to.have.length(2);
      expect(lines[0]).to.match(/^lambda-gitops (plan|apply): error: /);
      expect(lines[0]).to.include(needle);
      expect(lines[1]).to.match(/^ {2}fix: /);
      for (const f of scenario.functions) expect(run.stderr).not.to.include(f.name);
      const lambdaCalls = (await moto.calls()).filter((c) => c.service === "lambda");
      expect(describeCalls(lambdaCalls)).to.deep.equal([]);
    }

    it("preflight: no credentials is one error naming the variables to set", async () => {
      const home = await folder("home");
      const noCredentials = Object.fromEntries(
        Object.entries(env).filter(([k]) => !/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(k)),
      );
      for (const command of ["plan", "apply"]) {
        const run = await runCli([command, ...settings], { env: { ...noCredentials, HOME: home }, cwd });
        await expectOnePreflightError(run, "no AWS credentials found");
        expect(run.stderr).to.include("AWS_ACCESS_KEY_ID");
      }
    });

    it("preflight: no Region is one error naming --region and AWS_REGION", async () => {
      const noRegion = Object.fromEntries(Object.entries(env).filter(([k]) => !/^AWS_(DEFAULT_)?REGION$/.test(k)));
      const run = await runCli(["plan", ...settings], { env: noRegion, cwd });
      await expectOnePreflightError(run, "no AWS Region is configured");
      expect(run.stderr).to.include("--region");
    });

    it("preflight: an unreachable endpoint is one error naming the host and the code", async () => {
      const port = await closedPort();
      const run = await runCli(["apply", ...settings], {
        env: { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` },
        cwd,
      });
      await expectOnePreflightError(run, `cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
      expect(mutatingCalls(await moto.calls())).to.deep.equal([]);
    });

    it("plan prints the target account, Region, source account and alias before the table; no SDK Node notice", async () => {
      // Without the SDK's opt-out variable in the environment: the CLI sets it itself.
      const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...plain } = env;
      const run = await runCli(["plan", ...settings], { env: plain, cwd });
      expect(run.code, explain(run)).to.equal(0);
      expect(run.stderr).not.to.include("NodeVersionSupportWarning");
      const [target, source, alias] = run.stdout.split("\n");
      expect(target).to.equal(`Target: account ${scenario.production.accountId}, Region us-east-1`);
      expect(source).to.equal(`Source: account ${STAGING} (role ${sourceRoleArn(STAGING)})`);
      expect(alias).to.equal("Alias:  LIVE");
    });

    it("without a terminal, or with NO_COLOR, output has no escape codes (FORCE_COLOR shows the check bites)", async () => {
      const piped = await runCli(["plan", "--live-alias", "PROD", ...settings], { env, cwd });
      expect(piped.stdout).to.include("WARNING");
      expect(piped.stdout + piped.stderr).not.to.include(ESC);
      const forced = await runCli(["plan", "--live-alias", "PROD", ...settings], {
        env: { ...env, FORCE_COLOR: "1" },
        cwd,
      });
      expect(forced.stdout).to.include(ESC);
      const both = await runCli(["plan", "--live-alias", "PROD", ...settings], {
        env: { ...env, FORCE_COLOR: "1", NO_COLOR: "1" },
        cwd,
      });
      expect(both.stdout).to.include("WARNING");
      expect(both.stdout + both.stderr).not.to.include(ESC);
    });

    it("status shows LIVE with semantic versions, a rollout in progress, drift, and changes made outside; read-only", async () => {
      const noop = scenario.byKind("noop");
      const rollback = scenario.byKind("rollback");
      const created = scenario.byKind("live-missing");
      const noopLive = noop.expectedPlan.liveFunctionVersion ?? "";
      const since = Date.UTC(2026, 0, 1) / 1000;
      const describe = (marker: Parameters<typeof encodeMarker>[0]) => encodeMarker(marker) ?? "";
      await scenario.production.lambda.send(
        new UpdateAliasCommand({
          FunctionName: noop.name,
          Name: "LIVE",
          Description: describe({
            version: noop.desired.version,
            functionVersion: noopLive,
            weights: {},
            rollout: { fromVersion: "0.9.0", fromFunctionVersion: "1", step: 2, steps: 3, since },
          }),
        }),
      );
      // The marker says lambda-gitops wrote v99; LIVE routes elsewhere: someone moved it.
      await scenario.production.lambda.send(
        new UpdateAliasCommand({
          FunctionName: rollback.name,
          Name: "LIVE",
          Description: describe({ version: "9.9.9", functionVersion: "99", weights: {} }),
        }),
      );
      await moto.resetCalls();
      const run = await runCli(["status", ...settings], { env, cwd });
      expect(run.code, explain(run)).to.equal(0);
      const row = (name: string) => run.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
      expect(row(noop.name)).to.include(`${noop.desired.version} (v${noopLive})`);
      // Three partial steps then 100%: step 2 of 4, counted as apply counts it (issue 19).
      expect(row(noop.name)).to.include("step 2 of 4 since 2026-01-01T00:00:00.000Z (from 0.9.0)");
      expect(row(noop.name)).to.match(/in sync$/);
      expect(row(rollback.name)).to.include(`${rollback.expectedPlan.liveVersion} (v${rollback.expectedPlan.liveFunctionVersion})`);
      expect(row(rollback.name)).to.include("drift: apply would rollback; LIVE was changed outside lambda-gitops");
      expect(row(created.name)).to.include("(no alias)");
      expect(row(created.name)).to.include("drift: apply would create");
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);

      const json = await runCli(["status", "--format", "json", "--detailed-exitcode", ...settings], { env, cwd });
      expect(json.code, explain(json)).to.equal(2);
      const status = JSON.parse(json.stdout) as { functions: { name: string; state: string; changedOutside: boolean }[] };
      expect(status.functions.find((f) => f.name === noop.name)).to.include({ state: "in-sync", changedOutside: false });
      expect(status.functions.find((f) => f.name === rollback.name)).to.include({ state: "drift", changedOutside: true });
    });

    it("on a terminal apply shows the plan and asks; anything but yes changes nothing", async () => {
      await moto.resetCalls();
      const no = await runOnTerminal(["apply", "--live-alias", "ASKED", ...settings], { ...env, NO_COLOR: "1" }, cwd, "no\n");
      expect(no.code, explain(no)).to.equal(1);
      expect(no.stdout).to.include(`Target: account ${scenario.production.accountId}, Region us-east-1`);
      expect(no.stdout).to.include("CREATES the alias \"ASKED\"");
      expect(no.stdout).to.include("Only 'yes' is accepted");
      expect(no.stdout).to.include("Apply cancelled: nothing was changed.");
      expect(describeCalls(mutatingCalls(await moto.calls()))).to.deep.equal([]);
    });

    it("on a terminal apply shows done/total progress, in colour unless NO_COLOR", async () => {
      const colour = await runOnTerminal(["apply", "--live-alias", "STAGE1", "--auto-approve", ...settings], env, cwd);
      const total = scenario.functions.length;
      expect(colour.stdout, explain(colour)).to.match(new RegExp(`\\[${total}/${total}\\] `));
      expect(colour.stdout).to.include(ESC);
      expect(colour.stdout).to.include(`${scenario.byKind("promote").name}: code downloaded and verified`);
      const plain = await runOnTerminal(
        ["apply", "--live-alias", "STAGE2", "--auto-approve", ...settings],
        { ...env, NO_COLOR: "1" },
        cwd,
      );
      expect(plain.stdout, explain(plain)).to.match(new RegExp(`\\[${total}/${total}\\] `));
      expect(plain.stdout).to.include("LIVE moved");
      expect(plain.stdout).not.to.include(ESC);
    });
  });
});
