/**
 * One shared two-account scenario for the integration tests (CLI, handler) and `npm run demo`.
 *
 * STAGING (111111111111) is the source account, PRODUCTION (222222222222) the target. Each case is one
 * function, seeded so that the reconciler has exactly one thing to decide about it:
 *
 *   noop             1.1.1 is live in production and the file says 1.1.1
 *   rollback         production has 2.0.0 and 2.1.0, LIVE is on 2.1.0, the file says 2.0.0
 *   rollforward      production has 3.0.0 and 3.1.0, LIVE is on 3.0.0, the file says 3.1.0
 *   promote          1.1.0 exists only in staging (its own, distinct code): copy it over, then go LIVE
 *   promote-rc       a pre-release (1.0.0-rc.1, alias 1-0-0_rc-1) exists only in staging: same
 *   version-missing  the file says 1.5.0, which exists in neither account (blocked)
 *   function-missing the function exists in staging only (blocked: it is never created)
 *   live-missing     production has the version but no LIVE alias yet: LIVE is created (action create)
 *   live-on-latest   LIVE points at $LATEST (unpublished code): LIVE moves to the published version
 *   canary           4.0.0 live; the file says 4.0.0 with 10% of traffic on 4.1.0
 *
 * `seedScenario` returns the lambdas.json texts and, per function, exactly what `plan --format json`
 * should say about it (the function version numbers come from the seeding itself, not from guesses).
 */
import { execFile, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetAliasCommand, GetFunctionCommand, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { codePipelineJobEvent as jobEvent, HANDLER_RUNNER, type JobEventInput } from "./events.ts";
import {
  type JobResultRecord,
  type MotoCall,
  type MotoServer,
  MUTATING_LAMBDA_OPERATIONS,
  motoEnv,
} from "./moto.ts";
import {
  type AccountWorld,
  account,
  type Credentials,
  createSourceRole,
  LIVE_ALIAS,
  PRODUCTION,
  type SeededVersion,
  type SeedFunction,
  STAGING,
  seedFunction,
  sourceRoleArn,
  zipOf,
} from "./seed.ts";

export const ALLOWED_PREFIX = "team-a-";

export type CaseKind =
  | "noop"
  | "rollback"
  | "rollforward"
  | "promote"
  | "promote-rc"
  | "version-missing"
  | "function-missing"
  | "live-missing"
  | "live-on-latest"
  | "canary";

export const ALL_CASES: readonly CaseKind[] = [
  "noop",
  "rollback",
  "rollforward",
  "promote",
  "promote-rc",
  "version-missing",
  "function-missing",
  "live-missing",
  "live-on-latest",
  "canary",
];

/** What the demo shows: one of each kind of decision, plus one the reconciler must refuse. */
export const DEMO_CASES: readonly CaseKind[] = ["noop", "rollback", "promote", "version-missing"];

export type PlanAction = "noop" | "rollback" | "rollforward" | "create" | "promote" | "blocked";

export interface Canary {
  version: string;
  weight: number;
}

/** The fields of one `functions[]` entry of `plan --format json` that the tests compare whole. */
export interface ExpectedPlanEntry {
  name: string;
  action: PlanAction;
  desiredVersion: string;
  liveVersion: string | null;
  liveFunctionVersion: string | null;
  targetFunctionVersion: string | null;
  blockCode?: string;
}

export interface ScenarioFunction {
  kind: CaseKind;
  name: string;
  /** The situation in plain words (for the demo and for assertion messages). */
  story: string;
  desired: { version: string; canary?: Canary };
  expectedPlan: ExpectedPlanEntry;
  /** `status` after one apply: blocked functions fail, noop is unchanged, the rest applied. */
  expectedStatus: "applied" | "unchanged" | "blocked";
  /** Where LIVE routes in production after one apply (null: no LIVE alias / no function). */
  liveAfterApply: AliasView | null;
  /** The versions seeded in each account (semver -> function version and CodeSha256). */
  staging?: Record<string, SeededVersion>;
  production?: Record<string, SeededVersion>;
}

export interface Scenario {
  staging: AccountWorld;
  production: AccountWorld;
  /** Sorted by name: the order of the plan. */
  functions: ScenarioFunction[];
  /** lambdas.json with every seeded function (blocked ones included). */
  lambdasJson: string;
  /** lambdas.json without the blocked functions: a file that can converge. */
  convergentJson: string;
  /** Function name -> expected plan action. */
  expectedActions: Record<string, PlanAction>;
  byKind(kind: CaseKind): ScenarioFunction;
  /** lambdas.json for some of the functions (same order as given). */
  definitionFor(functions: readonly ScenarioFunction[]): string;
  destroy(): void;
}

interface CaseSpec {
  kind: CaseKind;
  name: string;
  story: string;
  desired: { version: string; canary?: Canary };
  staging?: Omit<SeedFunction, "name">;
  production?: Omit<SeedFunction, "name">;
  action: PlanAction;
  blockCode?: string;
}

/** Code of a version built in staging: clearly not the default seed code, and two files. */
function stagingBuild(name: string, version: string): Record<string, string> {
  return {
    "index.js": `const { greet } = require("./lib/greet.js");\nexports.handler = async () => greet(${JSON.stringify(`${name}@${version}`)});\n`,
    "lib/greet.js": `exports.greet = (who) => ({ statusCode: 200, body: "hello from " + who + " (built in staging)" });\n`,
  };
}

const CASES: Record<CaseKind, CaseSpec> = {
  noop: {
    kind: "noop",
    name: "team-a-orders",
    story: "1.1.1 is already live in production",
    desired: { version: "1.1.1" },
    production: { versions: [{ version: "1.1.0" }, { version: "1.1.1" }], live: "1.1.1" },
    action: "noop",
  },
  rollback: {
    kind: "rollback",
    name: "team-a-payments",
    story: "2.1.0 is live in production; the file goes back to 2.0.0, which production still has",
    desired: { version: "2.0.0" },
    production: { versions: [{ version: "2.0.0" }, { version: "2.1.0" }], live: "2.1.0" },
    action: "rollback",
  },
  rollforward: {
    kind: "rollforward",
    name: "team-a-search",
    story: "3.0.0 is live in production; the file moves to 3.1.0, which production already has",
    desired: { version: "3.1.0" },
    production: { versions: [{ version: "3.0.0" }, { version: "3.1.0" }], live: "3.0.0" },
    action: "rollforward",
  },
  promote: {
    kind: "promote",
    name: "team-a-invoices",
    story: "1.0.0 is live in production; the file says 1.1.0, which exists only in staging",
    desired: { version: "1.1.0" },
    staging: {
      versions: [{ version: "1.0.0" }, { version: "1.1.0", code: stagingBuild("team-a-invoices", "1.1.0") }],
      live: "1.1.0",
    },
    production: { versions: [{ version: "1.0.0" }], live: "1.0.0" },
    action: "promote",
  },
  "promote-rc": {
    kind: "promote-rc",
    name: "team-a-reports",
    story: "0.9.0 is live in production; the file says the pre-release 1.0.0-rc.1, only in staging",
    desired: { version: "1.0.0-rc.1" },
    staging: {
      versions: [
        { version: "0.9.0" },
        { version: "1.0.0-rc.1", code: stagingBuild("team-a-reports", "1.0.0-rc.1") },
      ],
      live: "0.9.0",
    },
    production: { versions: [{ version: "0.9.0" }], live: "0.9.0" },
    action: "promote",
  },
  "version-missing": {
    kind: "version-missing",
    name: "team-a-emails",
    story: "the file says 1.5.0, which was never built: neither staging nor production has it",
    desired: { version: "1.5.0" },
    staging: { versions: [{ version: "1.0.0" }], live: "1.0.0" },
    production: { versions: [{ version: "1.0.0" }], live: "1.0.0" },
    action: "blocked",
    blockCode: "version-missing",
  },
  "function-missing": {
    kind: "function-missing",
    name: "team-a-shipping",
    story: "the function exists in staging but was never created in production",
    desired: { version: "1.0.0" },
    staging: { versions: [{ version: "1.0.0" }], live: "1.0.0" },
    action: "blocked",
    blockCode: "function-missing",
  },
  "live-missing": {
    kind: "live-missing",
    name: "team-a-inventory",
    story: "production has 1.0.0 but no LIVE alias yet",
    desired: { version: "1.0.0" },
    production: { versions: [{ version: "1.0.0" }], live: null },
    action: "create",
  },
  "live-on-latest": {
    kind: "live-on-latest",
    name: "team-a-profiles",
    story: "LIVE points at $LATEST (unpublished code); the file says the published 1.0.0",
    desired: { version: "1.0.0" },
    production: { versions: [{ version: "1.0.0" }], live: "$LATEST" },
    action: "rollforward",
  },
  canary: {
    kind: "canary",
    name: "team-a-checkout",
    story: "4.0.0 is live; the file keeps 4.0.0 and sends 10% of traffic to 4.1.0",
    desired: { version: "4.0.0", canary: { version: "4.1.0", weight: 10 } },
    production: { versions: [{ version: "4.0.0" }, { version: "4.1.0" }], live: "4.0.0" },
    action: "rollforward",
  },
};

function expectedPlanEntry(
  spec: CaseSpec,
  production: Record<string, SeededVersion> | undefined,
): ExpectedPlanEntry {
  const live = spec.production?.live ?? null;
  const liveFunctionVersion =
    production === undefined || live === null ? null : live === "$LATEST" ? "$LATEST" : fv(production, live);
  const liveVersion = live === null || live === "$LATEST" || production === undefined ? null : live;
  const routesDirectly =
    spec.action === "noop" || spec.action === "rollback" || spec.action === "rollforward" || spec.action === "create";
  const entry: ExpectedPlanEntry = {
    name: spec.name,
    action: spec.action,
    desiredVersion: spec.desired.version,
    liveVersion,
    liveFunctionVersion,
    targetFunctionVersion: routesDirectly ? fv(production ?? {}, spec.desired.version) : null,
  };
  if (spec.blockCode) entry.blockCode = spec.blockCode;
  return entry;
}

function liveAfterApply(
  spec: CaseSpec,
  production: Record<string, SeededVersion> | undefined,
): AliasView | null {
  if (production === undefined) return null;
  if (spec.action === "blocked") {
    const live = spec.production?.live ?? null;
    if (live === null) return null;
    return { functionVersion: live === "$LATEST" ? "$LATEST" : fv(production, live), weights: {} };
  }
  // A promotion publishes the next version number in production (versions are numbered 1, 2, ...).
  const primary =
    spec.action === "promote"
      ? String(Object.keys(production).length + 1)
      : fv(production, spec.desired.version);
  const weights: Record<string, number> = {};
  if (spec.desired.canary)
    weights[fv(production, spec.desired.canary.version)] = spec.desired.canary.weight / 100;
  return { functionVersion: primary, weights };
}

function fv(versions: Record<string, SeededVersion>, semver: string): string {
  const found = versions[semver];
  if (!found) throw new Error(`scenario: version ${semver} was not seeded`);
  return found.functionVersion;
}

/** `{ "lambdas": [...] }` as a person would commit it: one entry per line, trailing newline. */
export function lambdasJsonOf(
  entries: readonly { name: string; desired: ScenarioFunction["desired"] }[],
): string {
  const q = (value: string) => JSON.stringify(value);
  const lines = entries.map(({ name, desired }) => {
    const canary = desired.canary
      ? `, "canary": { "version": ${q(desired.canary.version)}, "weight": ${desired.canary.weight} }`
      : "";
    return `    { "name": ${q(name)}, "version": ${q(desired.version)}${canary} }`;
  });
  return entries.length === 0 ? '{ "lambdas": [] }\n' : `{\n  "lambdas": [\n${lines.join(",\n")}\n  ]\n}\n`;
}

/**
 * Seeds STAGING and PRODUCTION with the chosen cases (default: all) and creates the source role in
 * STAGING. Call `server.resetCalls()` afterwards so the call log holds only what the reconciler does.
 */
export async function seedScenario(
  server: MotoServer,
  kinds: readonly CaseKind[] = ALL_CASES,
): Promise<Scenario> {
  const staging = await account(server, STAGING);
  const production = await account(server, PRODUCTION);
  await createSourceRole(staging, PRODUCTION);
  const specs = kinds.map((kind) => CASES[kind]);
  const functions = await Promise.all(
    specs.map(async (spec): Promise<ScenarioFunction> => {
      const [inStaging, inProduction] = await Promise.all([
        spec.staging ? seedFunction(staging, { name: spec.name, ...spec.staging }) : undefined,
        spec.production ? seedFunction(production, { name: spec.name, ...spec.production }) : undefined,
      ]);
      return {
        kind: spec.kind,
        name: spec.name,
        story: spec.story,
        desired: spec.desired,
        expectedPlan: expectedPlanEntry(spec, inProduction?.versions),
        expectedStatus:
          spec.action === "blocked" ? "blocked" : spec.action === "noop" ? "unchanged" : "applied",
        liveAfterApply: liveAfterApply(spec, inProduction?.versions),
        staging: inStaging?.versions,
        production: inProduction?.versions,
      };
    }),
  );
  const byName = (a: ScenarioFunction, b: ScenarioFunction) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  const sorted = [...functions].sort(byName);
  // The file keeps the order the cases were asked for (the plan sorts by name).
  const inFileOrder = kinds.map((kind) => functions.find((f) => f.kind === kind)!);
  return {
    staging,
    production,
    functions: sorted,
    lambdasJson: lambdasJsonOf(inFileOrder),
    convergentJson: lambdasJsonOf(inFileOrder.filter((f) => f.expectedPlan.action !== "blocked")),
    expectedActions: Object.fromEntries(sorted.map((f) => [f.name, f.expectedPlan.action])),
    byKind(kind) {
      const found = functions.find((f) => f.kind === kind);
      if (!found) throw new Error(`scenario: case ${kind} was not seeded`);
      return found;
    },
    definitionFor: (chosen) => lambdasJsonOf(chosen),
    destroy() {
      staging.lambda.destroy();
      production.lambda.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the world back (tests and demo)
// ---------------------------------------------------------------------------------------------

export interface AliasView {
  functionVersion: string;
  weights: Record<string, number>;
}

/** An alias as it is now, or null when it (or the function) does not exist. */
export async function readAlias(
  world: AccountWorld,
  functionName: string,
  alias: string,
): Promise<AliasView | null> {
  try {
    const out = await world.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
    return {
      functionVersion: out.FunctionVersion ?? "",
      weights: { ...(out.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return null;
    throw error;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Downloads the code of `functionName:qualifier` through GetFunction's Code.Location. */
export async function downloadCode(
  world: AccountWorld,
  functionName: string,
  qualifier: string,
): Promise<{ bytes: Uint8Array; functionVersion: string; codeSha256: string }> {
  const out = await world.lambda.send(
    new GetFunctionCommand({ FunctionName: functionName, Qualifier: qualifier }),
  );
  const location = out.Code?.Location;
  if (!location) throw new Error(`${functionName}:${qualifier} has no Code.Location in ${world.accountId}`);
  const response = await fetch(location);
  if (!response.ok)
    throw new Error(`download of ${functionName}:${qualifier} failed: HTTP ${response.status}`);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    functionVersion: out.Configuration?.Version ?? "",
    codeSha256: out.Configuration?.CodeSha256 ?? "",
  };
}

// ---------------------------------------------------------------------------------------------
// The call log
// ---------------------------------------------------------------------------------------------

const READ_METHODS = new Set(["GET", "HEAD"]);
const IAM_WRITE = /^(Create|Delete|Put|Update|Attach|Detach|Tag|Untag|Add|Remove|Set|Upload|Change|Reset)/;

/**
 * Calls that change state in any account: Lambda writes (by name, and any non-GET Lambda request the
 * log could not name), S3 writes (any non-GET/HEAD request), IAM writes. STS and the CodePipeline job
 * API are not state of the accounts and are left out.
 */
export function mutatingCalls(calls: readonly MotoCall[]): MotoCall[] {
  return calls.filter((c) => {
    if (c.service === "lambda")
      return MUTATING_LAMBDA_OPERATIONS.has(c.operation) || !READ_METHODS.has(c.method);
    if (c.service === "s3") return !READ_METHODS.has(c.method);
    if (c.service === "iam") return IAM_WRITE.test(c.operation);
    return false;
  });
}

/** "222222222222 UpdateAlias /2015-03-31/functions/x/aliases/LIVE" lines, for readable failures. */
export function describeCalls(calls: readonly MotoCall[]): string[] {
  return calls.map((c) => `${c.account} ${c.service}:${c.operation} ${c.method} ${c.path}`);
}

// ---------------------------------------------------------------------------------------------
// The built bundles
// ---------------------------------------------------------------------------------------------

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_BUNDLE = join(PROJECT_ROOT, "dist", "cli.mjs");
export const HANDLER_BUNDLE = join(PROJECT_ROOT, "dist", "handler.mjs");

async function newestTsMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) {
      newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
    }
  }
  return newest;
}

async function mtimeOr(path: string, fallback: number): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return fallback;
  }
}

/** Runs `npm run build` when dist/cli.mjs or dist/handler.mjs is missing or older than its sources. */
export async function ensureBuilt(): Promise<"built" | "fresh"> {
  const sources = Math.max(
    await newestTsMtime(join(PROJECT_ROOT, "reconciler")),
    await mtimeOr(join(PROJECT_ROOT, "scripts", "build.mjs"), 0),
    await mtimeOr(join(PROJECT_ROOT, "package-lock.json"), 0),
  );
  const built = Math.min(await mtimeOr(CLI_BUNDLE, 0), await mtimeOr(HANDLER_BUNDLE, 0));
  if (built > sources) return "fresh";
  await new Promise<void>((resolve, reject) => {
    execFile("npm", ["run", "build"], { cwd: PROJECT_ROOT, timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`npm run build failed: ${error.message}\n${stdout}\n${stderr}`)) : resolve(),
    );
  });
  return "built";
}

// ---------------------------------------------------------------------------------------------
// Running the reconciler as production would: child processes with the production account's
// credentials, the moto endpoint, and the source role in staging
// ---------------------------------------------------------------------------------------------

/**
 * Environment for a child process acting in `credentials`' account (PRODUCTION in the tests): the
 * moto endpoint and region from `motoEnv`, no inherited AWS settings, path-style S3 (moto on an IP).
 */
export function reconcilerEnv(server: MotoServer, credentials: Credentials): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...motoEnv(server),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_S3_FORCE_PATH_STYLE: "true",
    // The SDK's documented opt-out of its "Node 20 support ends" notice: keep stderr to what the tool says.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
  return env;
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` to completion (never rejects on a non-zero exit), optionally feeding stdin. */
export function runNode(
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Runs the built CLI: `node dist/cli.mjs <args>`. */
export function runCli(
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<ChildResult> {
  return runNode([CLI_BUNDLE, ...args], options);
}

/** The settings a security team puts in the pipeline action's UserParameters. */
export function userParameters(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    allowedPrefixes: [ALLOWED_PREFIX],
    sourceRoleArn: sourceRoleArn(STAGING),
    liveAlias: LIVE_ALIAS,
    definitionFile: "lambdas.json",
    ...overrides,
  });
}

/** An S3 client acting in `world`'s account (path-style: moto listens on an IP address). */
export function s3For(world: AccountWorld): S3Client {
  return new S3Client({ ...world.clientConfig, forcePathStyle: true });
}

/** Creates the pipeline's artifact bucket in `world`'s account (idempotent). */
export async function createArtifactBucket(world: AccountWorld, bucket: string): Promise<void> {
  const s3 = s3For(world);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw error;
  } finally {
    s3.destroy();
  }
}

/** Uploads a source artifact: the repository as the zip CodePipeline's source action stores. */
export async function putSourceArtifact(
  world: AccountWorld,
  bucket: string,
  key: string,
  files: Record<string, string>,
): Promise<void> {
  const s3 = s3For(world);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zipOf(files) }));
  } finally {
    s3.destroy();
  }
}

/** What a repository commit looks like in the artifact: lambdas.json and a little company. */
export function repositoryFiles(lambdasJson: string): Record<string, string> {
  return {
    "README.md": "# team-a deployments\n\nEdit lambdas.json and merge to deploy.\n",
    "lambdas.json": lambdasJson,
  };
}

/** The CodePipeline job event (events.ts), with this scenario's UserParameters unless given. */
export function codePipelineJobEvent(
  input: Omit<JobEventInput, "userParameters"> & { userParameters?: string },
): Record<string, unknown> {
  return jobEvent({ ...input, userParameters: input.userParameters ?? userParameters() });
}

/** The pipeline the integration scenarios' jobs belong to (GetJobDetails' pipelineContext). */
export const PIPELINE_NAME = "lambda-gitops";

/**
 * CodePipeline starts a job: the launcher answers GetJobDetails for it with the job's data (and
 * pipeline context), as CodePipeline would; returns the event Lambda receives for it. The handler
 * trusts only GetJobDetails, so a job never started this way is unknown to it.
 */
export async function startPipelineJob(
  server: MotoServer,
  input: Omit<JobEventInput, "userParameters"> & { userParameters?: string; pipelineExecutionId?: string },
  pipelineName = PIPELINE_NAME,
): Promise<Record<string, unknown>> {
  const { pipelineExecutionId = randomUUID(), ...jobInput } = input;
  const event = codePipelineJobEvent(jobInput);
  const data = (event["CodePipeline.job"] as { data: Record<string, unknown> }).data;
  await server.defineJob(input.jobId, {
    ...data,
    pipelineContext: { pipelineName, pipelineExecutionId, stage: { name: "Deploy" }, action: { name: "Reconcile" } },
  });
  return event;
}

export interface HandlerRun extends ChildResult {
  jobId: string;
  requestId: string;
  /** The handler's JSON log lines (stdout). */
  logs: Record<string, unknown>[];
  /** Every call the run made (the call log is reset just before it). */
  calls: MotoCall[];
  /** Job results recorded during the run. */
  jobResults: JobResultRecord[];
}

/**
 * Invokes dist/handler.mjs's `handler` in a child process acting in `credentials`' account, with a
 * fresh request id; records the calls and job results of that one invocation.
 */
export async function invokeHandler(
  server: MotoServer,
  event: Record<string, unknown>,
  credentials: Credentials,
  options: { remainingMs?: number; remainingSequence?: number[] } = {},
): Promise<HandlerRun> {
  const jobId = String((event["CodePipeline.job"] as { id?: unknown } | undefined)?.id ?? "");
  const requestId = randomUUID();
  const before = (await server.jobResults()).length;
  await server.resetCalls();
  const result = await runNode(["--input-type=module", "-e", HANDLER_RUNNER], {
    env: { ...reconcilerEnv(server, credentials), LOG_LEVEL: "info" },
    input: JSON.stringify({ bundle: HANDLER_BUNDLE, event, requestId, ...options }),
    timeoutMs: 60_000,
  });
  const calls = await server.calls();
  const jobResults = (await server.jobResults()).slice(before);
  const logs = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { ...result, jobId, requestId, logs, calls, jobResults };
}
