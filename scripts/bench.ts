/**
 * `npm run bench`: the real reconciler (the built CLI, `dist/cli.mjs`, as a child process) against
 * moto, with Lambda's quotas emulated in front of moto by test/support/aws-proxy.ts (429
 * TooManyRequestsException past 15 control-plane calls/s or 100 GetFunction calls/s per account).
 * Each scenario runs twice: with the rate scheduler, and without it (plain concurrency,
 * LAMBDA_GITOPS_RATE_LIMIT=off), printed side by side.
 *
 *   npm run bench -- --functions 500 --scenario all-noop
 *   npm run bench -- --functions 100 --scenario all-promote
 *   npm run bench -- --functions 20 --scenario all-promote --package-mib 40 --concurrency 8
 *
 * Options: --functions N (100), --scenario all-noop | all-promote | mixed (all-noop),
 * --package-mib M (size of each promoted package, 0 = a few hundred bytes; default 0),
 * --concurrency C (the reconciler's --concurrency, default 16), --modes scheduler,plain (both),
 * --transfer-budget-mib B (passed through), --seed-concurrency S (16), --json (also print JSON),
 * --foreign-rps R (another tool in the target account sends R control-plane calls/s, blind to
 * throttles, while the reconciler runs; the floor then uses what it leaves: 15 - R per second).
 *
 * Seeding goes straight to moto (not through the proxy). The wall time is the child's, from spawn to
 * exit; its peak RSS is `process.resourceUsage().maxRSS`, written at exit by a tiny `--import`
 * preload. The quota floor is the busiest account's control-plane calls / 15 per second.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  LambdaClient,
  ListAliasesCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { zipSync } from "fflate";
import pLimit from "p-limit";
import { type AwsProxy, LAMBDA_QUOTAS, startAwsProxy } from "../test/support/aws-proxy.ts";
import { MOTO_REGION, type MotoServer, startMoto, stopSharedMoto } from "../test/support/moto.ts";
import {
  type AccountWorld,
  account,
  assumeInto,
  PRODUCTION,
  STAGING,
  sourceRoleArn,
} from "../test/support/seed.ts";

type Scenario = "all-noop" | "all-promote" | "mixed";
type Mode = "scheduler" | "plain";
type Kind = "noop" | "promote" | "rollforward";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist", "cli.mjs");
const PREFIX = "bench-";

const { values } = parseArgs({
  options: {
    functions: { type: "string", default: "100" },
    scenario: { type: "string", default: "all-noop" },
    "package-mib": { type: "string", default: "0" },
    concurrency: { type: "string", default: "16" },
    modes: { type: "string", default: "scheduler,plain" },
    "transfer-budget-mib": { type: "string" },
    "seed-concurrency": { type: "string", default: "16" },
    "foreign-rps": { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});

const functions = Number(values.functions);
const scenario = values.scenario as Scenario;
const packageMiB = Number(values["package-mib"]);
const concurrency = Number(values.concurrency);
const modes = values.modes.split(",").map((m) => m.trim()) as Mode[];
const seedConcurrency = Number(values["seed-concurrency"]);
/** Another tool sharing the target account's control-plane quota, blind to throttles. */
const foreignRps = Number(values["foreign-rps"]);
if (!["all-noop", "all-promote", "mixed"].includes(scenario))
  throw new Error(`unknown --scenario ${scenario}`);
if (!(functions > 0) || !(concurrency > 0)) throw new Error("--functions and --concurrency must be positive");
if (modes.some((m) => m !== "scheduler" && m !== "plain")) throw new Error("--modes: scheduler and/or plain");

function kindOf(i: number): Kind {
  if (scenario === "all-noop") return "noop";
  if (scenario === "all-promote") return "promote";
  // mixed: 60% noop, 20% rollforward (LIVE moves), 20% promote.
  const r = i % 5;
  return r < 3 ? "noop" : r === 3 ? "rollforward" : "promote";
}

const nameOf = (i: number) => `${PREFIX}${String(i).padStart(4, "0")}`;

function smallZip(text: string): Uint8Array {
  return zipSync(
    { "index.js": new TextEncoder().encode(`exports.handler = async () => ${JSON.stringify(text)};\n`) },
    { mtime: new Date(1980, 0, 1), level: 6 },
  );
}

/** A zip of about `mib` MiB: random (incompressible) bytes, stored. */
function bigZip(mib: number, tag: string): Uint8Array {
  return zipSync(
    {
      "index.js": new TextEncoder().encode(`exports.handler = async () => ${JSON.stringify(tag)};\n`),
      "blob.bin": [randomBytes(Math.round(mib * 1024 * 1024)), { level: 0 }],
    },
    { mtime: new Date(1980, 0, 1) },
  );
}

interface World {
  production: AccountWorld;
  staging: AccountWorld;
}

async function createFunction(world: AccountWorld, name: string, zip: Uint8Array): Promise<string> {
  const out = await world.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: world.roleArn,
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Code: { ZipFile: zip },
      Publish: true,
    }),
  );
  return out.Version ?? "1";
}

async function alias(lambda: LambdaClient, name: string, alias: string, version: string): Promise<void> {
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: version }));
}

/** Seeds every function straight into moto (not through the proxy); returns lambdas.json. */
async function seed(moto: MotoServer): Promise<{ world: World; lambdasJson: string }> {
  await moto.resetAll();
  const [production, staging] = await Promise.all([account(moto, PRODUCTION), account(moto, STAGING)]);
  const pkg = packageMiB > 0 ? bigZip(packageMiB, "bench-1.1.0") : undefined;
  const limit = pLimit(seedConcurrency);
  const entries = await Promise.all(
    Array.from({ length: functions }, (_, i) =>
      limit(async () => {
        const name = nameOf(i);
        const kind = kindOf(i);
        const v1 = await createFunction(production, name, smallZip(`${name} 1.0.0`));
        await alias(production.lambda, name, "1-0-0", v1);
        await alias(production.lambda, name, "LIVE", v1);
        if (kind === "noop") return { name, version: "1.0.0" };
        if (kind === "rollforward") {
          // A second published version here, aliased 1-1-0; LIVE still on 1.0.0.
          await production.lambda.send(
            new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: smallZip(`${name} 1.1.0`) }),
          );
          const v2 = await production.lambda.send(new PublishVersionCommand({ FunctionName: name }));
          await alias(production.lambda, name, "1-1-0", v2.Version ?? "2");
          return { name, version: "1.1.0" };
        }
        // promote: 1.1.0 exists only in staging.
        const s1 = await createFunction(staging, name, pkg ?? smallZip(`${name} 1.1.0 (staging)`));
        await alias(staging.lambda, name, "1-1-0", s1);
        return { name, version: "1.1.0" };
      }),
    ),
  );
  return {
    world: { production, staging },
    lambdasJson: `${JSON.stringify({ lambdas: entries }, null, 1)}\n`,
  };
}

interface RunResult {
  mode: Mode;
  exitCode: number | null;
  wallMs: number;
  maxRssKiB: number;
  summary: Record<string, number>;
  failedExamples: string[];
  controlByAccount: Record<string, number>;
  getFunctionByAccount: Record<string, number>;
  throttled: number;
  lambdaCalls: number;
  usage?: Record<string, number>;
  foreign: { calls: number; throttled: number };
}

/** Another tool in the target account: `rps` ListAliases calls per second, no back-off, no retries. */
async function startForeignLoad(moto: MotoServer, proxy: AwsProxy): Promise<{ key: string; stop(): void }> {
  const credentials = await assumeInto(moto, PRODUCTION, "some-other-tool");
  proxy.registerAccount(credentials.accessKeyId, PRODUCTION);
  if (foreignRps <= 0) return { key: credentials.accessKeyId, stop: () => {} };
  const client = new LambdaClient({
    endpoint: proxy.endpoint,
    region: MOTO_REGION,
    credentials,
    maxAttempts: 1,
  });
  const timer = setInterval(() => {
    client.send(new ListAliasesCommand({ FunctionName: nameOf(0) })).catch(() => undefined);
  }, 1000 / foreignRps);
  return {
    key: credentials.accessKeyId,
    stop: () => {
      clearInterval(timer);
      client.destroy();
    },
  };
}

async function runReconciler(
  mode: Mode,
  dir: string,
  proxy: AwsProxy,
  world: World,
  moto: MotoServer,
): Promise<RunResult> {
  const rssFile = join(dir, `rss-${mode}.txt`);
  const preload = join(dir, "rss-preload.mjs");
  await writeFile(
    preload,
    `import { writeFileSync } from "node:fs";\nprocess.on("exit", () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n`,
  );
  const creds = world.production.credentials;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    LOG_LEVEL: "info",
    BENCH_RSS_FILE: rssFile,
    ...(mode === "plain" ? { LAMBDA_GITOPS_RATE_LIMIT: "off" } : {}),
  };
  const args = [
    "--import",
    preload,
    CLI,
    "apply",
    "lambdas.json",
    "--auto-approve",
    "--allowed-prefix",
    PREFIX,
    "--source-role-arn",
    sourceRoleArn(STAGING),
    "--concurrency",
    String(concurrency),
    "--format",
    "json",
    ...(values["transfer-budget-mib"] ? ["--transfer-budget-mib", values["transfer-budget-mib"]] : []),
  ];
  proxy.reset();
  await moto.resetCalls();
  const foreign = await startForeignLoad(moto, proxy);
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        out += c;
      });
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        err += c;
      });
      child.once("error", reject);
      child.once("close", (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    },
  );
  const wallMs = performance.now() - started;
  foreign.stop();
  const stats = proxy.stats();
  const foreignCalls = { calls: 0, throttled: 0 };
  const controlByAccount: Record<string, number> = {};
  const getFunctionByAccount: Record<string, number> = {};
  let lambdaCalls = 0;
  for (const call of stats.calls) {
    if (call.service !== "lambda") continue;
    if (call.accessKeyId === foreign.key) {
      foreignCalls.calls += 1;
      if (call.outcome === "throttled") foreignCalls.throttled += 1;
      continue;
    }
    lambdaCalls += 1;
    if (call.outcome !== "forwarded") continue;
    const bucket = call.quotaClass === "control" ? controlByAccount : getFunctionByAccount;
    if (call.quotaClass === "control" || call.quotaClass === "getFunction") {
      bucket[call.account] = (bucket[call.account] ?? 0) + 1;
    }
  }
  let summary: Record<string, number> = {};
  const failedExamples: string[] = [];
  try {
    const report = JSON.parse(stdout) as {
      summary: Record<string, number>;
      functions: { name: string; status: string; error?: string }[];
    };
    summary = report.summary;
    for (const f of report.functions) {
      if (f.status === "failed" && failedExamples.length < 3) failedExamples.push(`${f.name}: ${f.error}`);
    }
  } catch {
    failedExamples.push(`no JSON report (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
  const usageLine = stderr
    .split("\n")
    .reverse()
    .find((l) => l.includes("Lambda API calls"));
  let usage: Record<string, number> | undefined;
  if (usageLine) {
    try {
      const parsed = JSON.parse(usageLine) as Record<string, unknown>;
      usage = Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number"),
      );
    } catch {
      // Not a JSON line after all: the table shows the proxy's counts, which do not depend on it.
    }
  }
  const maxRssKiB = Number(await readFile(rssFile, "utf8").catch(() => "0"));
  return {
    mode,
    exitCode: code,
    wallMs,
    maxRssKiB,
    summary,
    failedExamples,
    controlByAccount,
    getFunctionByAccount,
    throttled: stats.calls.filter((c) => c.outcome === "throttled" && c.accessKeyId !== foreign.key).length,
    lambdaCalls,
    foreign: foreignCalls,
    usage,
  };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function row(r: RunResult): string[] {
  const busiest = Math.max(0, ...Object.values(r.controlByAccount));
  // With another tool in the account, only what it leaves of the quota is ours.
  const floorS = busiest / (LAMBDA_QUOTAS.control - foreignRps);
  const target = r.controlByAccount[PRODUCTION] ?? 0;
  const wallS = r.wallMs / 1000;
  return [
    r.mode,
    String(functions),
    wallS.toFixed(1),
    (target / functions).toFixed(2),
    (sum(r.controlByAccount) / functions).toFixed(2),
    (sum(r.getFunctionByAccount) / functions).toFixed(2),
    `${r.throttled} (${((100 * r.throttled) / Math.max(1, r.lambdaCalls)).toFixed(2)}%)`,
    (r.maxRssKiB / 1024).toFixed(0),
    floorS.toFixed(1),
    floorS > 0 ? (wallS / floorS).toFixed(2) : "-",
    String(r.summary.failed ?? "?"),
    String(r.exitCode),
  ];
}

function table(rows: string[][]): string {
  const header = [
    "mode",
    "functions",
    "wall s",
    "ctl/fn target",
    "ctl/fn all",
    "GetFunction/fn",
    "429s (of Lambda calls)",
    "peak RSS MB",
    "floor s",
    "wall/floor",
    "failed",
    "exit",
  ];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ")).join("\n");
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lambda-gitops-bench-"));
  const moto = await startMoto();
  const proxy = await startAwsProxy({ upstream: moto.endpoint });
  try {
    const results: RunResult[] = [];
    let seeded: { world: World; lambdasJson: string } | undefined;
    for (const mode of modes) {
      // A promote changes the world: every run starts from a fresh seed (noop runs can share one).
      if (!seeded || scenario !== "all-noop") {
        const t0 = performance.now();
        seeded = await seed(moto);
        await writeFile(join(dir, "lambdas.json"), seeded.lambdasJson);
        for (const w of [seeded.world.production, seeded.world.staging]) {
          proxy.registerAccount(w.credentials.accessKeyId, w.accountId);
        }
        process.stderr.write(
          `seeded ${functions} function(s) (${scenario}${packageMiB ? `, ${packageMiB} MiB packages` : ""}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      }
      await new Promise((r) => setTimeout(r, 1100)); // let the quota windows empty
      const result = await runReconciler(mode, dir, proxy, seeded.world, moto);
      process.stderr.write(`${mode}: done in ${(result.wallMs / 1000).toFixed(1)} s\n`);
      results.push(result);
    }
    const cpus = (await import("node:os")).cpus().length;
    console.log(
      `\nscenario ${scenario}, ${functions} functions, concurrency ${concurrency}, package ${packageMiB ? `${packageMiB} MiB` : "tiny"}${values["transfer-budget-mib"] ? `, transfer budget ${values["transfer-budget-mib"]} MiB` : ""}${foreignRps > 0 ? `, another tool using ${foreignRps}/s of the target's control quota (floor counts only the rest)` : ""}; quotas emulated: control ${LAMBDA_QUOTAS.control}/s, GetFunction ${LAMBDA_QUOTAS.getFunction}/s per account; ${cpus} CPU(s)`,
    );
    console.log(table(results.map(row)));
    for (const r of results) {
      const perAccount = Object.keys({ ...r.controlByAccount, ...r.getFunctionByAccount })
        .sort()
        .map(
          (a) =>
            `${a === PRODUCTION ? "target" : a === STAGING ? "source" : a} ctl ${r.controlByAccount[a] ?? 0} gf ${r.getFunctionByAccount[a] ?? 0}`,
        )
        .join("; ");
      console.log(
        `${r.mode}: ${JSON.stringify(r.summary)}; calls per account: ${perAccount}${r.usage ? `; reconciler's own count: ${JSON.stringify(r.usage)}` : ""}`,
      );
      if (foreignRps > 0) {
        console.log(
          `  the other tool (${foreignRps}/s in the target account): ${r.foreign.calls} calls, ${r.foreign.throttled} throttled`,
        );
      }
      for (const f of r.failedExamples) console.log(`  failed: ${f}`);
    }
    if (values.json) console.log(JSON.stringify(results, null, 2));
  } finally {
    await proxy.stop();
    await stopSharedMoto();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
