/**
 * The built CLI (`node dist/cli.mjs`) end to end, as a child process, against moto with two accounts:
 * it runs "in production" (PRODUCTION's assumed-role credentials) and assumes the source role in
 * STAGING to promote. The world is the shared scenario (test/support/scenario.ts): one function per
 * kind of decision. Every claim about side effects is checked against moto's call log.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type MotoServer, startMoto } from "../support/moto.ts";
import { closedPort } from "../support/net.ts";
import {
  ALLOWED_PREFIX,
  type ChildResult,
  describeCalls,
  downloadCode,
  ensureBuilt,
  lambdasJsonOf,
  mutatingCalls,
  readAlias,
  reconcilerEnv,
  runCli,
  type Scenario,
  seedScenario,
  sha256Hex,
} from "../support/scenario.ts";
import { account, PRODUCTION, STAGING, seedFunction, sourceRoleArn, versionAlias } from "../support/seed.ts";

/** A function in production outside the allowed prefix, with a change pending if anyone applied it. */
const FOREIGN = "team-b-billing";

describe("CLI (dist/cli.mjs) against moto: staging -> production", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let dir: string;

  before(async function () {
    this.timeout(150_000); // a cold `npm run build` on a slow machine
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-cli-"));
    [moto] = await Promise.all([startMoto(), ensureBuilt()]);
  });

  after(async () => {
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh world: both accounts seeded with every case, files written, the call log emptied. */
  async function freshWorld(): Promise<{ scenario: Scenario; env: Record<string, string> }> {
    await moto.resetAll();
    const scenario = await seedScenario(moto);
    await seedFunction(scenario.production, {
      name: FOREIGN,
      versions: [{ version: "1.0.0" }, { version: "1.1.0" }],
      live: "1.0.0",
    });
    await writeFile(join(dir, "lambdas.json"), scenario.lambdasJson);
    await writeFile(join(dir, "convergent.json"), scenario.convergentJson);
    await moto.resetCalls();
    return { scenario, env: reconcilerEnv(moto, scenario.production.credentials) };
  }

  const settings = ["--allowed-prefix", ALLOWED_PREFIX, "--source-role-arn", sourceRoleArn(STAGING)];
  const cli = (env: Record<string, string>, ...args: string[]): Promise<ChildResult> =>
    runCli([...args, ...settings], { env, cwd: dir });

  const explain = (run: ChildResult) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

  async function expectNoWrites(what: string): Promise<void> {
    const writes = mutatingCalls(await moto.calls());
    expect(describeCalls(writes), `${what} must not change anything`).to.deep.equal([]);
  }

  describe("plan (read-only)", () => {
    let scenario: Scenario;
    let env: Record<string, string>;

    before(async () => {
      ({ scenario, env } = await freshWorld());
    });
    after(() => scenario?.destroy());
    beforeEach(() => moto.resetCalls());

    it("--format json gives the right action for every case, and exits 1 because two are blocked", async () => {
      const run = await cli(env, "plan", "lambdas.json", "--format", "json");
      expect(run.code, explain(run)).to.equal(1);
      const plan = JSON.parse(run.stdout) as {
        liveAlias: string;
        functions: Record<string, unknown>[];
        summary: Record<string, number>;
      };
      expect(plan.liveAlias).to.equal("LIVE");
      const fields = plan.functions.map((f) => ({
        name: f.name,
        action: f.action,
        desiredVersion: f.desiredVersion,
        liveVersion: f.liveVersion,
        liveFunctionVersion: f.liveFunctionVersion,
        targetFunctionVersion: f.targetFunctionVersion,
        ...(f.blockCode === undefined ? {} : { blockCode: f.blockCode }),
      }));
      expect(fields).to.deep.equal(scenario.functions.map((f) => f.expectedPlan));
      expect(plan.summary).to.deep.equal({ noop: 1, rollback: 1, rollforward: 3, create: 1, promote: 2, blocked: 2 });

      const byName = new Map(plan.functions.map((f) => [f.name, f]));
      for (const kind of ["promote", "promote-rc"] as const) {
        const f = scenario.byKind(kind);
        const seeded = f.staging![f.desired.version]!;
        expect(byName.get(f.name)?.sources, f.name).to.deep.equal([
          {
            version: f.desired.version,
            account: STAGING,
            functionVersion: seeded.functionVersion,
            codeSha256: seeded.codeSha256,
          },
        ]);
      }
      expect(byName.get(scenario.byKind("version-missing").name)?.reason).to.include("1.5.0");
      const canary = scenario.byKind("canary");
      expect(byName.get(canary.name)?.routing).to.deep.equal({
        from: { functionVersion: canary.production!["4.0.0"]!.functionVersion, weights: {} },
        to: canary.liveAfterApply,
      });
    });

    it("makes no mutating call in either account, and reads staging only through the source role", async () => {
      const run = await cli(env, "plan", "lambdas.json", "--format", "json");
      expect(run.code, explain(run)).to.equal(1);
      const calls = await moto.calls();
      expect(describeCalls(mutatingCalls(calls))).to.deep.equal([]);
      expect(calls.filter((c) => c.service === "s3" || c.service === "iam")).to.deep.equal([]);
      expect([...new Set(calls.map((c) => c.account))].sort()).to.deep.equal([STAGING, PRODUCTION].sort());
      // Preflight asks STS once who the source role is; every other read there is GetFunction.
      const inStaging = calls.filter((c) => c.account === STAGING && c.service !== "sts");
      expect(
        calls.filter((c) => c.account === STAGING && c.service === "sts").map((c) => c.operation),
      ).to.deep.equal(["GetCallerIdentity"]);
      expect(inStaging.map((c) => `${c.service}:${c.operation}`)).to.satisfy((ops: string[]) =>
        ops.every((op) => op === "lambda:GetFunction"),
      );
      // The source is only asked about versions production lacks: the two promotions and the missing version.
      const asked = inStaging.map(
        (c) => `${c.path.split("/")[3]}:${new URLSearchParams(c.query).get("Qualifier")}`,
      );
      expect(asked.sort()).to.deep.equal(
        ["team-a-emails:1-5-0", "team-a-invoices:1-1-0", "team-a-reports:1-0-0_rc-1"].sort(),
      );
      expect(calls.some((c) => c.service === "sts" && c.operation === "AssumeRole")).to.equal(true);
    });

    it("--format markdown prints a table with one row per function", async () => {
      const run = await cli(env, "plan", "lambdas.json", "--format", "markdown");
      expect(run.code, explain(run)).to.equal(1);
      const lines = run.stdout.trim().split("\n");
      expect(lines[0]).to.equal(
        "**lambda-gitops plan**: 1 noop, 1 rollback, 3 rollforward, 1 create, 2 promote, 2 blocked.",
      );
      expect(lines).to.include("| Function | Action | LIVE now | Desired | Details |");
      const rows = lines.filter((l) => l.startsWith("| `"));
      expect(rows.map((r) => /^\| `([^`]+)` \| ([^|]+?) \|/.exec(r)?.slice(1, 3))).to.deep.equal(
        scenario.functions.map((f) => [
          f.name,
          f.expectedPlan.action === "blocked" ? "**blocked**" : f.expectedPlan.action,
        ]),
      );
      const row = (kind: Parameters<Scenario["byKind"]>[0]) =>
        rows.find((r) => r.startsWith(`| \`${scenario.byKind(kind).name}\``));
      expect(row("rollback")).to.equal(
        "| `team-a-payments` | rollback | 2.1.0 (v2) | 2.0.0 | repoint to v1 |",
      );
      expect(row("canary")).to.equal(
        "| `team-a-checkout` | rollforward | 4.0.0 (v1) | 4.0.0 + 10% 4.1.0 | repoint to v1 + 10% v2 |",
      );
      await expectNoWrites("plan --format markdown");
    });

    it("--detailed-exitcode exits 2 while changes are pending (a file without blocked entries)", async () => {
      const run = await cli(env, "plan", "convergent.json", "--detailed-exitcode");
      expect(run.code, explain(run)).to.equal(2);
      expect(run.stdout).to.include("Plan: 1 noop, 1 rollback, 3 rollforward, 1 create, 2 promote.");
      // Without the flag the same plan is a plain success.
      const plain = await cli(env, "plan", "convergent.json");
      expect(plain.code, explain(plain)).to.equal(0);
      await expectNoWrites("plan --detailed-exitcode");
    });

    it("refuses a function outside --allowed-prefix: exit 1, the function named, no AWS call at all", async () => {
      const file = lambdasJsonOf([
        ...scenario.functions.filter((f) => f.expectedPlan.action !== "blocked"),
        { name: FOREIGN, desired: { version: "1.1.0" } },
      ]);
      await writeFile(join(dir, "denied.json"), file);
      const lines = file.split("\n");
      const line = lines.findIndex((l) => l.includes(FOREIGN)) + 1;
      const column = (lines[line - 1] ?? "").indexOf(`"${FOREIGN}"`) + 1;
      for (const command of ["plan", "apply"]) {
        await moto.resetCalls();
        const run = await cli(env, command, "denied.json", "--format", "json");
        expect(run.code, explain(run)).to.equal(1);
        expect(run.stdout, command).to.equal("");
        expect(run.stderr, command).to.include(
          `denied.json:${line}:${column}: lambdas[8].name: function "${FOREIGN}" is outside the allowed prefixes ("team-a-")`,
        );
        expect(run.stderr).to.include("1 problem(s) found.");
        // The policy is checked before anything touches AWS: not even a read.
        expect(describeCalls(await moto.calls()), command).to.deep.equal([]);
      }
      expect(await readAlias(scenario.production, FOREIGN, "LIVE")).to.deep.equal({
        functionVersion: "1",
        weights: {},
      });
      const rollback = scenario.byKind("rollback");
      expect((await readAlias(scenario.production, rollback.name, "LIVE"))?.functionVersion).to.equal(
        rollback.expectedPlan.liveFunctionVersion,
      );
    });
  });

  describe("validate", () => {
    /** `line:col` of the first occurrence of `needle` (plus `shift` characters) on 1-based line `line`. */
    const at = (text: string, line: number, needle: string, shift = 0): string => {
      const column = (text.split("\n")[line - 1] ?? "").indexOf(needle);
      if (column < 0) throw new Error(`"${needle}" is not on line ${line}`);
      return `${line}:${column + 1 + shift}`;
    };

    const MALFORMED = [
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-orders", "version": "v1.2.3" },',
      '    { "name": "team-a-orders", "version": "1.0" },',
      '    { "name": "arn:aws:lambda:us-east-1:222222222222:function:team-a-x", "version": "1.0.0", "extra": true },',
      '    { "name": "team-a-checkout", "version": "4.0.0", "canary": { "version": "4.1.0", "weight": 150 } },',
      '    { "version": "2.0.0" }',
      "  ]",
      "}",
      "",
    ].join("\n");
    const TRAILING_COMMA =
      '{\n  "lambdas": [\n    { "name": "team-a-orders", "version": "1.0.0" },\n  ]\n}\n';
    const DUPLICATE_KEY =
      '{\n  "lambdas": [\n    { "name": "team-a-orders", "version": "1.0.0", "version": "1.0.1" }\n  ]\n}\n';
    const YAML =
      "lambdas:\n  - name: team-a-orders\n    version: 1.2\n  - name: team-a-search\n    version: =3.1.0\n";

    const cases: { file: string; text: string; problems: [string, string][] }[] = [
      {
        file: "malformed.json",
        text: MALFORMED,
        problems: [
          [`${at(MALFORMED, 3, '"v1.2.3"')}: lambdas[0].version:`, 'drop the leading "v" (use "1.2.3")'],
          [
            `${at(MALFORMED, 4, '"team-a-orders"')}: lambdas[1].name:`,
            'function "team-a-orders" is listed more than once (first at line 3)',
          ],
          [`${at(MALFORMED, 4, '"1.0"')}: lambdas[1].version:`, 'use three numbers, e.g. "1.0.0"'],
          [
            `${at(MALFORMED, 5, '"arn:')}: lambdas[2].name:`,
            'is an ARN: use the plain function name ("team-a-x")',
          ],
          [`${at(MALFORMED, 5, '"extra"')}: lambdas[2]:`, 'unknown key "extra"'],
          [`${at(MALFORMED, 6, "150")}: lambdas[3].canary.weight:`, "must be less than 100 (found 150)"],
          [`${at(MALFORMED, 7, "{")}: lambdas[4]:`, 'missing required key "name"'],
        ],
      },
      {
        file: "trailing-comma.json",
        text: TRAILING_COMMA,
        problems: [[`${at(TRAILING_COMMA, 3, "},", 1)}:`, "trailing comma"]],
      },
      {
        file: "duplicate-key.json",
        text: DUPLICATE_KEY,
        problems: [[`${at(DUPLICATE_KEY, 3, '"version": "1.0.1"')}: lambdas[0]:`, 'duplicate key "version"']],
      },
      {
        file: "lambdas.yaml",
        text: YAML,
        problems: [
          [`${at(YAML, 3, "1.2")}: lambdas[0].version:`, 'expected a version string such as "1.4.2", found'],
          [`${at(YAML, 5, "=3.1.0")}: lambdas[1].version:`, 'drop the leading "=" (use "3.1.0")'],
        ],
      },
    ];

    it("reports every problem as FILE:LINE:COL, exits 1, and makes no AWS call", async () => {
      await moto.resetAll();
      const production = await account(moto, PRODUCTION);
      production.lambda.destroy();
      const env = reconcilerEnv(moto, production.credentials);
      await moto.resetCalls();
      for (const { file, text, problems } of cases) {
        await writeFile(join(dir, file), text);
        const run = await cli(env, "validate", file);
        expect(run.code, `${file}: ${explain(run)}`).to.equal(1);
        expect(run.stdout, file).to.equal("");
        const lines = run.stderr.trim().split("\n");
        expect(lines.at(-1), file).to.equal(`${problems.length} problem(s) found.`);
        const reported = lines.slice(0, -1);
        expect(reported, `${file}: one line per problem`).to.have.length(problems.length);
        problems.forEach(([where, message], i) => {
          expect(reported[i], `${file} problem ${i + 1}`).to.satisfy(
            (line: string) => line.startsWith(`${file}:${where}`) && line.includes(message),
            `expected "${file}:${where} ... ${message}", got "${reported[i]}"`,
          );
        });
      }
      expect(describeCalls(await moto.calls())).to.deep.equal([]);
    });

    it("accepts a valid file without any network (endpoint on a closed port)", async () => {
      const closed = await closedPort();
      const env = {
        ...reconcilerEnv(moto, { accessKeyId: "AKIAOFFLINE000000000", secretAccessKey: "offline" }),
        AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}`,
      };
      const text = lambdasJsonOf([
        { name: "team-a-orders", desired: { version: "1.1.1" } },
        { name: "team-a-checkout", desired: { version: "4.0.0", canary: { version: "4.1.0", weight: 10 } } },
      ]);
      await writeFile(join(dir, "valid.json"), text);
      const run = await cli(env, "validate", "valid.json");
      expect(run.code, explain(run)).to.equal(0);
      expect(run.stdout).to.equal("valid.json: 2 function(s) valid and allowed.\n");
      expect(run.stderr).to.equal("");
    });
  });

  describe("apply", () => {
    let scenario: Scenario;
    let env: Record<string, string>;
    let first: ChildResult;
    let firstCalls: Awaited<ReturnType<MotoServer["calls"]>>;
    type ApplyJson = { functions: Record<string, unknown>[]; summary: Record<string, number> };

    before(async () => {
      ({ scenario, env } = await freshWorld());
      first = await cli(env, "apply", "lambdas.json", "--auto-approve", "--format", "json");
      firstCalls = await moto.calls();
    });
    after(() => scenario?.destroy());

    it("--format json reports a status per function and exits 1 because the blocked ones fail", () => {
      expect(first.code, explain(first)).to.equal(1);
      const report = JSON.parse(first.stdout) as ApplyJson;
      expect(report.summary).to.deep.equal({ unchanged: 1, applied: 7, failed: 0, skipped: 0, blocked: 2 });
      expect(
        report.functions.map((f) => ({
          name: f.name,
          action: f.action,
          status: f.status,
          functionVersion: f.functionVersion,
        })),
      ).to.deep.equal(
        scenario.functions.map((f) => ({
          name: f.name,
          action: f.expectedPlan.action,
          status: f.expectedStatus,
          functionVersion: f.liveAfterApply?.functionVersion ?? null,
        })),
      );
      const byName = new Map(report.functions.map((f) => [f.name, f]));
      for (const kind of ["promote", "promote-rc"] as const) {
        const f = scenario.byKind(kind);
        expect(byName.get(f.name)?.published, f.name).to.deep.equal({
          [f.desired.version]: f.liveAfterApply?.functionVersion,
        });
      }
      for (const kind of ["version-missing", "function-missing"] as const) {
        const f = scenario.byKind(kind);
        expect(byName.get(f.name)?.error, f.name).to.equal(byName.get(f.name)?.reason);
        expect(first.stderr).to.include(`"function":"${f.name}"`);
      }
    });

    it("converges: LIVE in production routes where the file says (blocked functions untouched)", async () => {
      for (const f of scenario.functions) {
        const live = await readAlias(scenario.production, f.name, "LIVE");
        expect(live, `${f.name} (${f.story})`).to.deep.equal(f.liveAfterApply);
        if (f.expectedPlan.action === "blocked" || !live) continue;
        const versionAliasNow = await readAlias(scenario.production, f.name, versionAlias(f.desired.version));
        expect(
          versionAliasNow?.functionVersion,
          `${f.name}: LIVE = alias ${versionAlias(f.desired.version)}`,
        ).to.equal(live.functionVersion);
      }
      // Nothing was created for the function that is missing in production.
      expect(await readAlias(scenario.production, scenario.byKind("function-missing").name, "LIVE")).to.equal(
        null,
      );
    });

    it("promoted code in production is byte-for-byte staging's build", async () => {
      for (const kind of ["promote", "promote-rc"] as const) {
        const f = scenario.byKind(kind);
        const alias = versionAlias(f.desired.version);
        const fromStaging = await downloadCode(scenario.staging, f.name, alias);
        const inProduction = await downloadCode(scenario.production, f.name, alias);
        const liveInProduction = await downloadCode(scenario.production, f.name, "LIVE");
        expect(fromStaging.codeSha256, f.name).to.equal(f.staging![f.desired.version]!.codeSha256);
        expect(sha256Hex(inProduction.bytes), `${f.name} ${alias}`).to.equal(sha256Hex(fromStaging.bytes));
        expect(sha256Hex(liveInProduction.bytes), `${f.name} LIVE`).to.equal(sha256Hex(fromStaging.bytes));
        expect(inProduction.codeSha256).to.equal(fromStaging.codeSha256);
        expect(inProduction.functionVersion).to.equal(f.liveAfterApply?.functionVersion);
        // ... and it is new code for production, not what it already had.
        const before = await downloadCode(
          scenario.production,
          f.name,
          versionAlias(f.expectedPlan.liveVersion!),
        );
        expect(sha256Hex(before.bytes)).not.to.equal(sha256Hex(fromStaging.bytes));
      }
    });

    it("writes only in production, and only to the functions that needed a change", () => {
      const writes = mutatingCalls(firstCalls);
      expect(writes.length).to.be.greaterThan(0);
      expect([...new Set(writes.map((c) => c.account))]).to.deep.equal([PRODUCTION]);
      const touched = new Set(writes.map((c) => c.path.split("/")[3]));
      const changing = scenario.functions.filter((f) => f.expectedStatus === "applied").map((f) => f.name);
      expect([...touched].sort()).to.deep.equal(changing.sort());
      const ops = (name: string) =>
        writes
          .filter((c) => c.path.split("/")[3] === name)
          .map((c) => `${c.operation} ${c.path.split("/")[5] ?? ""}`.trim());
      expect(ops(scenario.byKind("rollback").name)).to.deep.equal(["UpdateAlias LIVE"]);
      expect(ops(scenario.byKind("live-missing").name)).to.deep.equal(["CreateAlias"]);
      expect(ops(scenario.byKind("promote").name)).to.deep.equal([
        "UpdateFunctionCode",
        "PublishVersion",
        "CreateAlias",
        "UpdateAlias LIVE",
      ]);
    });

    it("a second apply makes no mutating call, and plan --detailed-exitcode then exits 0", async () => {
      await moto.resetCalls();
      const again = await cli(env, "apply", "lambdas.json", "--auto-approve", "--format", "json");
      expect(again.code, explain(again)).to.equal(1); // the two blocked functions still cannot be done
      const report = JSON.parse(again.stdout) as ApplyJson;
      expect(report.summary).to.deep.equal({ unchanged: 8, applied: 0, failed: 0, skipped: 0, blocked: 2 });
      for (const f of report.functions) {
        expect(f.status, String(f.name)).to.equal(f.action === "blocked" ? "blocked" : "unchanged");
      }
      await expectNoWrites("a second apply");

      const convergent = await cli(env, "apply", "convergent.json", "--auto-approve", "--format", "json");
      expect(convergent.code, explain(convergent)).to.equal(0);
      const plan = await cli(env, "plan", "convergent.json", "--detailed-exitcode");
      expect(plan.code, explain(plan)).to.equal(0);
      expect(plan.stdout).to.include("Plan: 8 noop.");
      await expectNoWrites("apply and plan after convergence");
    });
  });
});
