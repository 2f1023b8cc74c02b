/**
 * A fleet of functions for the hardening tests (faults, crashes, concurrent runs): many functions of
 * a few kinds seeded straight into moto, the definition file that reconciles them, and the safety
 * invariant read back from the target account after every run.
 *
 * Kinds (per function; STAGING is the source account, PRODUCTION the target):
 *   promote   production has 1.0.0 (LIVE); 1.1.0 exists only in staging; the file says 1.1.0
 *   rollback  production has 2.0.0 and 2.1.0, LIVE on 2.1.0; the file says 2.0.0
 *   noop      production has 3.0.0 (LIVE); the file says 3.0.0
 *   golive    production has 4.0.0 but no LIVE alias yet; the file says 4.0.0 (LIVE is created)
 * A semantic version has the same code in both accounts (seed.ts's defaultCode), so the hash every
 * version must carry is known without asking anyone: `expectedSha(name, semver)`.
 *
 * The invariant (`inspectFleet`), checked in PRODUCTION:
 *   1. every version alias (1-1-0 ...) points at a version whose CodeSha256 is that semver's hash;
 *   2. LIVE routes (primary and weighted) only to versions that carry a version alias, i.e. never
 *      to unverified code, and only to the semver it had before or the one the file declares.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  type AliasConfiguration,
  type FunctionConfiguration,
  LambdaClient,
  paginateListAliases,
  paginateListVersionsByFunction,
} from "@aws-sdk/client-lambda";
import pLimit from "p-limit";
import { aliasToVersion } from "../../reconciler/input/versions.ts";
import { HANDLER_RUNNER } from "./events.ts";
import type { MotoServer } from "./moto.ts";
import { type ChildResult, CLI_BUNDLE, HANDLER_BUNDLE, PROJECT_ROOT, reconcilerEnv } from "./scenario.ts";
import {
  type AccountWorld,
  account,
  createSourceRole,
  defaultCode,
  PRODUCTION,
  STAGING,
  seedFunction,
  sourceRoleArn,
  zipOf,
} from "./seed.ts";

export type FleetKind = "promote" | "rollback" | "noop" | "golive";

export interface FleetFunction {
  name: string;
  kind: FleetKind;
  /** The semver LIVE carries before any run (null: no LIVE alias yet). */
  from: string | null;
  /** The semver the file declares. */
  desired: string;
  /** Published versions in production before any run. */
  seededVersions: number;
}

export interface Fleet {
  staging: AccountWorld;
  production: AccountWorld;
  functions: FleetFunction[];
  /** lambdas.json reconciling every function of the fleet. */
  definition: string;
  /** PRODUCTION client for reading the fleet back (retries: it reads while runs write). */
  inspector: LambdaClient;
  destroy(): void;
}

export const FLEET_PREFIX = "team-a-";

const PLAN: Record<
  FleetKind,
  { from: string | null; desired: string; production: string[]; staging: string[] }
> = {
  promote: { from: "1.0.0", desired: "1.1.0", production: ["1.0.0"], staging: ["1.0.0", "1.1.0"] },
  rollback: { from: "2.1.0", desired: "2.0.0", production: ["2.0.0", "2.1.0"], staging: [] },
  noop: { from: "3.0.0", desired: "3.0.0", production: ["3.0.0"], staging: [] },
  golive: { from: null, desired: "4.0.0", production: ["4.0.0"], staging: [] },
};

/** The CodeSha256 (base64) the version `semver` of `name` has in either account. */
export function expectedSha(name: string, semver: string): string {
  return createHash("sha256")
    .update(zipOf(defaultCode(name, semver)))
    .digest("base64");
}

export function fleetDefinition(functions: readonly FleetFunction[]): string {
  const lambdas = functions.map((f) => ({ name: f.name, version: f.desired }));
  return `${JSON.stringify({ lambdas }, null, 2)}\n`;
}

/**
 * Seeds `counts` functions of each kind (names `team-a-<tag>-<kind>-NNN`) into a moto that may
 * already hold other fleets; `tag` keeps fleets of one moto apart.
 */
export async function seedFleet(
  moto: MotoServer,
  counts: Partial<Record<FleetKind, number>>,
  tag: string,
  concurrency = 8,
): Promise<Fleet> {
  const staging = await account(moto, STAGING);
  const production = await account(moto, PRODUCTION);
  await createSourceRole(staging, PRODUCTION);
  const functions: FleetFunction[] = [];
  for (const kind of ["promote", "rollback", "noop", "golive"] as const) {
    for (let i = 0; i < (counts[kind] ?? 0); i++) {
      const plan = PLAN[kind];
      functions.push({
        name: `${FLEET_PREFIX}${tag}-${kind}-${String(i).padStart(3, "0")}`,
        kind,
        from: plan.from,
        desired: plan.desired,
        seededVersions: plan.production.length,
      });
    }
  }
  const limit = pLimit(concurrency);
  await Promise.all(
    functions.map((f) =>
      limit(async () => {
        const plan = PLAN[f.kind];
        const versions = (list: string[]) => list.map((version) => ({ version }));
        await seedFunction(production, { name: f.name, versions: versions(plan.production), live: f.from });
        if (plan.staging.length > 0) {
          await seedFunction(staging, { name: f.name, versions: versions(plan.staging), live: null });
        }
      }),
    ),
  );
  const inspector = new LambdaClient({ ...production.clientConfig, maxAttempts: 5 });
  return {
    staging,
    production,
    functions,
    definition: fleetDefinition(functions),
    inspector,
    destroy() {
      staging.lambda.destroy();
      production.lambda.destroy();
      inspector.destroy();
    },
  };
}

export interface FunctionView {
  /** The semver LIVE's primary version carries (null: no LIVE, or a version without alias). */
  live: string | null;
  /** Published versions (not $LATEST). */
  versions: number;
}

export interface FleetView {
  /** Broken invariants, one line each; empty when everything is safe. */
  violations: string[];
  byName: Map<string, FunctionView>;
  /** Functions whose LIVE is not yet on the declared version. */
  pending: string[];
}

/** Reads every function of the fleet in PRODUCTION (straight from moto) and checks the invariant. */
export async function inspectFleet(fleet: Fleet, functions = fleet.functions): Promise<FleetView> {
  const client = fleet.inspector;
  const violations: string[] = [];
  const byName = new Map<string, FunctionView>();
  const limit = pLimit(8);
  await Promise.all(
    functions.map((f) =>
      limit(async () => {
        // Aliases first, then versions: versions are never deleted, so every version an alias
        // pointed at is in the later list even while a run is publishing (sampling mid-run).
        const aliases: AliasConfiguration[] = [];
        for await (const page of paginateListAliases({ client }, { FunctionName: f.name })) {
          aliases.push(...(page.Aliases ?? []));
        }
        const versions = new Map<string, FunctionConfiguration>();
        for await (const page of paginateListVersionsByFunction({ client }, { FunctionName: f.name })) {
          for (const v of page.Versions ?? []) if (v.Version) versions.set(v.Version, v);
        }
        const semversAt = new Map<string, string[]>();
        for (const alias of aliases) {
          const semver = aliasToVersion(alias.Name ?? "");
          if (semver === undefined) continue;
          const version = alias.FunctionVersion ?? "";
          semversAt.set(version, [...(semversAt.get(version) ?? []), semver]);
          const sha = versions.get(version)?.CodeSha256;
          if (sha !== expectedSha(f.name, semver)) {
            violations.push(
              `${f.name}: version alias ${alias.Name} -> v${version} has code ${sha}, not ${semver}'s ${expectedSha(f.name, semver)}`,
            );
          }
        }
        const live = aliases.find((a) => a.Name === "LIVE");
        let liveSemver: string | null = null;
        if (live) {
          const targets = [
            live.FunctionVersion ?? "",
            ...Object.keys(live.RoutingConfig?.AdditionalVersionWeights ?? {}),
          ];
          for (const [i, version] of targets.entries()) {
            const semvers = semversAt.get(version) ?? [];
            if (semvers.length === 0) {
              violations.push(`${f.name}: LIVE routes to v${version}, which carries no version alias`);
            }
            for (const semver of semvers) {
              if (semver !== f.from && semver !== f.desired) {
                violations.push(
                  `${f.name}: LIVE routes to v${version} (${semver}), neither ${f.from} nor ${f.desired}`,
                );
              }
            }
            if (i === 0) liveSemver = semvers.includes(f.desired) ? f.desired : (semvers[0] ?? null);
          }
        } else if (f.from !== null) {
          violations.push(`${f.name}: LIVE alias is missing`);
        }
        byName.set(f.name, { live: liveSemver, versions: versions.size - (versions.has("$LATEST") ? 1 : 0) });
      }),
    ),
  );
  violations.sort();
  const pending = functions.filter((f) => byName.get(f.name)?.live !== f.desired).map((f) => f.name);
  return { violations, byName, pending };
}

// ---------------------------------------------------------------------------------------------
// Running the built CLI as a child process that a test can kill
// ---------------------------------------------------------------------------------------------

export interface CliChild {
  child: ChildProcess;
  /** Resolves when the process has exited and its output is drained (never rejects). */
  done: Promise<ChildResult & { signal: NodeJS.Signals | null }>;
  kill(): void;
}

/** Environment for the CLI acting in PRODUCTION, with every AWS call sent to `endpoint`. */
export function cliEnv(
  moto: MotoServer,
  fleet: Fleet,
  endpoint: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...reconcilerEnv(moto, fleet.production.credentials),
    AWS_ENDPOINT_URL: endpoint,
    LOG_LEVEL: "warn",
    ...extra,
  };
}

export function cliArgs(command: "apply" | "plan", file: string, ...extra: string[]): string[] {
  return [
    command,
    file,
    "--allowed-prefix",
    FLEET_PREFIX,
    "--source-role-arn",
    sourceRoleArn(STAGING),
    // apply without a terminal changes nothing unless approved.
    ...(command === "apply" ? ["--auto-approve"] : []),
    ...extra,
  ];
}

export function spawnCli(
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string; timeoutMs?: number },
): CliChild {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child, options.timeoutMs ?? 120_000);
}

function collect(child: ChildProcess, timeoutMs: number): CliChild {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<ChildResult & { signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}\nspawn error: ${error.message}` });
    });
  });
  return {
    child,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** Signs of a crash rather than a handled failure in a CLI run's output. */
export function crashSigns(run: ChildResult): string[] {
  const text = `${run.stdout}\n${run.stderr}`;
  const signs = [
    /^\s+at .+\(.+:\d+:\d+\)$/m, // a stack trace
    /Unhandled|unhandled/,
    /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/,
    /failed unexpectedly/,
  ];
  return signs.filter((re) => re.test(text)).map(String);
}

/** Invokes dist/handler.mjs once in a child process (which a test may run concurrently with others). */
export function spawnHandler(
  event: Record<string, unknown>,
  options: { env: Record<string, string>; requestId: string; timeoutMs?: number },
): CliChild {
  const child = spawn(process.execPath, ["--input-type=module", "-e", HANDLER_RUNNER], {
    cwd: PROJECT_ROOT,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const run = collect(child, options.timeoutMs ?? 120_000);
  child.stdin!.end(JSON.stringify({ bundle: HANDLER_BUNDLE, event, requestId: options.requestId }));
  return run;
}
