/**
 * Read-only observation for pruning: per function, every version (ListVersionsByFunction, 50 a
 * page) and every alias (ListAliases), so 2 control-plane calls per function (plus one per extra
 * page of 50 versions). A read failure is that function's "failed" observation, never "absent".
 */
import pLimit from "p-limit";
import type { LambdaReader, LambdaWriter } from "../aws/lambda.ts";
import type { AliasState, VersionSummary } from "./state.ts";
import { describeError } from "../core/errors.ts";

/** One alias as ListAliases returns it; `weights` maps additional version -> fraction (0..1). */
export type AliasInfo = Omit<AliasState, "revisionId">;

/** What pruning saw of one function (plan/prune.ts decides from it). */
export type PruneObservation =
  | { kind: "observed"; versions: readonly VersionSummary[]; aliases: readonly AliasInfo[] }
  | { kind: "missing-function" }
  | { kind: "failed"; message: string };

export type VersionsObservation = PruneObservation;

export type VersionsReader = Pick<LambdaReader, "listAliases"> & Pick<LambdaWriter, "listVersions">;

export function aliasInfo(alias: AliasState): AliasInfo {
  return {
    name: alias.name,
    functionVersion: alias.functionVersion,
    weights: { ...alias.weights },
    description: alias.description,
  };
}

export async function observeVersions(reader: VersionsReader, name: string): Promise<VersionsObservation> {
  try {
    const aliases = await reader.listAliases(name);
    if (aliases === undefined) return { kind: "missing-function" };
    const versions = await reader.listVersions(name);
    if (versions === undefined) return { kind: "missing-function" };
    return { kind: "observed", versions, aliases: aliases.map(aliasInfo) };
  } catch (error) {
    return { kind: "failed", message: `could not list versions and aliases: ${describeError(error)}` };
  }
}

/** Every function concurrently (bounded); keyed by name. */
export async function observeAllVersions(
  reader: VersionsReader,
  names: readonly string[],
  concurrency: number,
): Promise<Map<string, VersionsObservation>> {
  const limit = pLimit(concurrency);
  return new Map(
    await Promise.all(names.map((name) => limit(async () => [name, await observeVersions(reader, name)] as const))),
  );
}
