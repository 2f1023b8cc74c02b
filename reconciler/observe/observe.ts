/**
 * Read-only observation of the target (and, when needed, the source) account for each function.
 * Spends as few control-plane calls as the facts allow (Lambda quotas: one ListAliases answers for every alias):
 * - target: one ListAliases gives LIVE, every version alias and their RevisionIds at once;
 * - source: GetFunction on the version alias (GetFunction has its own 100/s quota), only when the
 *   target lacks the version alias; it also tells the package type and the code hash;
 * - target $LATEST (GetFunction) only when something must be promoted, and the configuration of
 *   existing versions only when a canary needs the role / dead-letter check;
 * - the target's code-signing configuration only when something must be promoted (an Enforce
 *   policy blocks the promotion in the plan).
 * A read failure becomes that function's "failed" observation; it never looks like "absent".
 */
import pLimit from "p-limit";
import type { LambdaReader } from "../aws/lambda.ts";
import { type AliasState, type CodeSigning, type FunctionState, isPublishedVersion } from "./state.ts";
import type { Definition, FunctionSpec } from "../input/definitions.ts";
import { describeError } from "../core/errors.ts";
import { versionToAlias } from "../input/versions.ts";
import { liveOf, type Live } from "./live.ts";

export type VersionSighting =
  /** The version alias exists in the target account. `config` is read only for canaries. */
  | { where: "target"; alias: AliasState; config?: FunctionState }
  /** Missing in the target, present in the source account. */
  | { where: "source"; source: FunctionState; sourceAccount: string }
  /** Missing in the target; `sourceChecked` is false when no source account is configured. */
  | { where: "nowhere"; sourceChecked: boolean }
  /** The source account could not be read (access denied, throttled past retries...). */
  | { where: "unreadable"; message: string };

export type Observation =
  | { kind: "missing-function" }
  | { kind: "failed"; message: string }
  | {
      kind: "observed";
      /** LIVE as observed (null: no LIVE alias). */
      live: Live | null;
      /** Every alias of the function (ListAliases), LIVE included. */
      aliases: AliasState[];
      /** Keyed by semantic version: the primary and, if declared, the canary version. */
      versions: Record<string, VersionSighting>;
      /** Target $LATEST, read when a promote or a canary check needs it. */
      latest: FunctionState | undefined;
      /** The target's code-signing configuration, read only when code would be promoted. */
      codeSigning?: CodeSigning | undefined;
      /** Provisioned concurrency on LIVE, read only when a canary is declared (undefined: none). */
      liveProvisionedConcurrency?: number | undefined;
    };

export interface SourceAccount {
  reader: LambdaReader;
  accountId: string;
}

export interface ObserveOptions {
  target: LambdaReader;
  source: SourceAccount | undefined;
  liveAlias: string;
  concurrency: number;
}

/** The semantic versions a function declares: its primary and, if any, its canary. */
export function declaredVersions(spec: Pick<FunctionSpec, "version" | "canary">): string[] {
  return spec.canary ? [spec.version, spec.canary.version] : [spec.version];
}

/** Observe every function concurrently (bounded); the result is keyed by function name. */
export async function observeAll(
  definition: Definition,
  options: ObserveOptions,
): Promise<Map<string, Observation>> {
  const limit = pLimit(options.concurrency);
  const entries = await Promise.all(
    definition.functions.map((spec) =>
      limit(async () => [spec.name, await observeFunction(spec, options)] as const),
    ),
  );
  return new Map(entries);
}

export async function observeFunction(spec: FunctionSpec, options: ObserveOptions): Promise<Observation> {
  const { target } = options;
  let aliases: AliasState[] | undefined;
  try {
    aliases = await target.listAliases(spec.name);
  } catch (error) {
    return {
      kind: "failed",
      message: `could not read aliases in the target account: ${describeError(error)}`,
    };
  }
  if (aliases === undefined) return { kind: "missing-function" };

  const byName = new Map(aliases.map((a) => [a.name, a]));
  const versions: Record<string, VersionSighting> = {};
  for (const version of declaredVersions(spec)) {
    const alias = byName.get(versionToAlias(version));
    versions[version] = alias
      ? { where: "target", alias }
      : await sightInSource(spec.name, version, options.source);
  }

  const needsPromote = Object.values(versions).some((v) => v.where === "source");
  let latest: FunctionState | undefined;
  let codeSigning: CodeSigning | undefined;
  let liveProvisionedConcurrency: number | undefined;
  const live = byName.get(options.liveAlias);
  try {
    if (needsPromote || spec.canary) {
      latest = await target.getFunction(spec.name);
      if (latest === undefined) return { kind: "missing-function" };
    }
    if (needsPromote) codeSigning = await target.getCodeSigning(spec.name);
    if (spec.canary && live) {
      liveProvisionedConcurrency = await target.getProvisionedConcurrency(spec.name, options.liveAlias);
    }
    if (spec.canary) {
      for (const sighting of Object.values(versions)) {
        if (sighting.where === "target" && isPublishedVersion(sighting.alias.functionVersion)) {
          sighting.config = await target.getFunction(spec.name, sighting.alias.functionVersion);
        }
      }
    }
  } catch (error) {
    return {
      kind: "failed",
      message: `could not read the function in the target account: ${describeError(error)}`,
    };
  }
  return {
    kind: "observed",
    live: live ? liveOf(live, aliases) : null,
    aliases,
    versions,
    latest,
    codeSigning,
    ...(liveProvisionedConcurrency !== undefined ? { liveProvisionedConcurrency } : {}),
  };
}

async function sightInSource(
  functionName: string,
  version: string,
  source: SourceAccount | undefined,
): Promise<VersionSighting> {
  if (!source) return { where: "nowhere", sourceChecked: false };
  try {
    const found = await source.reader.getFunction(functionName, versionToAlias(version));
    return found
      ? { where: "source", source: found, sourceAccount: source.accountId }
      : { where: "nowhere", sourceChecked: true };
  } catch (error) {
    return { where: "unreadable", message: describeError(error) };
  }
}
