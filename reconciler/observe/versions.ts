/**
 * Read-only observation for pruning: per function, every version (ListVersionsByFunction, 50 a
 * page), every alias (ListAliases), and what else invokes it: event-source mappings
 * (ListEventSourceMappings) and provisioned-concurrency configurations
 * (ListProvisionedConcurrencyConfigs); so 4 control-plane calls per function (plus one per extra
 * page). A read failure is that function's "failed" observation, never "absent": nothing of it is
 * deleted.
 */
import pLimit from "p-limit";
import type { LambdaReader, LambdaWriter } from "../aws/lambda.ts";
import type { AliasState, VersionSummary } from "./state.ts";
import { describeError } from "../core/errors.ts";

/** One alias as ListAliases returns it; `weights` maps additional version -> fraction (0..1). */
export type AliasInfo = Omit<AliasState, "revisionId">;

/**
 * What invokes the function besides its aliases: event-source mappings (their FunctionArn, which may
 * carry a version or alias qualifier) and provisioned-concurrency configurations (their FunctionArn,
 * always qualified).
 */
export interface Invokers {
  mappings: readonly { uuid: string; functionArn: string }[];
  provisioned: readonly string[];
}

/** What pruning saw of one function (plan/prune.ts decides from it). */
export type PruneObservation =
  | { kind: "observed"; versions: readonly VersionSummary[]; aliases: readonly AliasInfo[]; invokers: Invokers }
  | { kind: "missing-function" }
  | { kind: "failed"; message: string };

export type VersionsObservation = PruneObservation;

export type VersionsReader = Pick<LambdaReader, "listAliases"> &
  Pick<LambdaWriter, "listVersions" | "listEventSourceMappings" | "listProvisionedConcurrency">;

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
    const mappings = await reader.listEventSourceMappings(name);
    const provisioned = await reader.listProvisionedConcurrency(name);
    return { kind: "observed", versions, aliases: aliases.map(aliasInfo), invokers: { mappings, provisioned } };
  } catch (error) {
    return {
      kind: "failed",
      message: `could not list versions, aliases, event-source mappings and provisioned concurrency: ${describeError(error)}`,
    };
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
