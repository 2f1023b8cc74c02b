/**
 * Executes a prune plan: deletes exactly the deletions the plan lists, oldest first, and never a
 * version that serves traffic.
 *
 * The plan was made from an observation; an alias may have moved since. So right before each
 * deletion a fresh ListAliases re-checks it: the deletion is skipped (and the version kept) when
 * LIVE is gone, when any alias other than the version aliases being deleted now routes to the
 * version (primary or weight), or when one of those version aliases no longer points plainly at it.
 * Then each version alias is deleted (DeleteAlias), then the version (DeleteFunction with
 * Qualifier = the version number; never unqualified, which would delete the function).
 *
 * Residual race: DeleteAlias takes no RevisionId, so an alias moved between the re-check and the
 * deletes is not caught by a precondition. Lambda itself refuses to delete a version an alias
 * references (ResourceConflictException): the version stays, and the version aliases just deleted
 * are created again on it (CreateAlias), so the rollback window keeps its names. What remains is
 * a window of milliseconds in which the version alias is missing; nothing that routes traffic is
 * touched.
 *
 * Control-plane calls per deleted version: 1 ListAliases + 1 DeleteAlias per version alias + 1
 * DeleteFunction, all through the shared quota scheduler. Functions run concurrently (bounded),
 * the deletions of one function one after another.
 */
import pLimit from "p-limit";
import type { ApplyReport } from "./apply.ts";
import type { LambdaWriter } from "../aws/lambda.ts";
import { describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { observeAllVersions } from "../observe/versions.ts";
import {
  buildPrunePlan,
  type Deletion,
  type PruneEntry,
  type PrunePlan,
  routedVersions,
} from "../plan/prune.ts";

export type PruneLambda = Pick<LambdaWriter, "listAliases" | "deleteAlias" | "deleteVersion" | "createAlias">;

/** Observe (ListAliases + ListVersionsByFunction per function) and plan the pruning of `names`. */
export async function makePrunePlan(
  lambda: Pick<LambdaWriter, "listAliases" | "listVersions">,
  names: readonly string[],
  options: { liveAlias: string; keep: number; concurrency: number },
): Promise<PrunePlan> {
  const observations = await observeAllVersions(lambda, names, options.concurrency);
  return buildPrunePlan(names, observations, options.liveAlias, options.keep);
}

export type DeletionOutcome =
  | { kind: "deleted"; deletion: Deletion }
  | { kind: "kept"; deletion: Deletion; reason: string };

export type PruneResult =
  | { name: string; status: "pruned" | "unchanged"; outcomes: DeletionOutcome[] }
  | { name: string; status: "skipped"; reason: string }
  | { name: string; status: "failed"; outcomes: DeletionOutcome[]; error: string };

export interface PruneReport {
  results: PruneResult[];
}

export interface PruneApplyOptions {
  lambda: PruneLambda;
  liveAlias: string;
  concurrency: number;
  logger: Logger;
}

export async function applyPrune(plan: PrunePlan, options: PruneApplyOptions): Promise<PruneReport> {
  const limit = pLimit(options.concurrency);
  const results = await Promise.all(plan.entries.map((entry) => limit(() => pruneFunction(entry, options))));
  return { results };
}

async function pruneFunction(entry: PruneEntry, options: PruneApplyOptions): Promise<PruneResult> {
  if (entry.kind === "skipped") return { name: entry.name, status: "skipped", reason: entry.reason };
  const log = options.logger.child({ function: entry.name });
  const outcomes: DeletionOutcome[] = [];
  try {
    for (const deletion of entry.deletions) {
      const outcome = await deleteOne(entry.name, deletion, options);
      outcomes.push(outcome);
      if (outcome.kind === "kept") log.warn("kept a version the plan would delete", { version: deletion.functionVersion, reason: outcome.reason });
      else log.info("deleted version", { version: deletion.functionVersion, aliases: deletion.aliases });
    }
  } catch (error) {
    log.error("prune failed", { error: describeError(error) });
    return { name: entry.name, status: "failed", outcomes, error: describeError(error) };
  }
  return { name: entry.name, status: outcomes.some((o) => o.kind === "deleted") ? "pruned" : "unchanged", outcomes };
}

/** Why the deletion must not happen now, from a fresh look at the aliases; undefined when it may. */
export function recheck(
  deletion: Deletion,
  aliases: readonly { name: string; functionVersion: string; weights: Record<string, number> }[] | undefined,
  liveAlias: string,
): string | undefined {
  if (aliases === undefined) return "the function no longer exists";
  if (!aliases.some((a) => a.name === liveAlias)) return `${liveAlias} no longer exists`;
  const own = new Set(deletion.aliases);
  for (const alias of aliases) {
    if (own.has(alias.name)) {
      if (alias.functionVersion !== deletion.functionVersion || Object.keys(alias.weights).length > 0) {
        return `version alias ${alias.name} no longer points at version ${deletion.functionVersion} alone`;
      }
      continue;
    }
    if (routedVersions(alias).includes(deletion.functionVersion)) {
      return `alias ${alias.name} now routes to version ${deletion.functionVersion}`;
    }
  }
  return undefined;
}

async function deleteOne(name: string, deletion: Deletion, options: PruneApplyOptions): Promise<DeletionOutcome> {
  const { lambda } = options;
  const why = recheck(deletion, await lambda.listAliases(name), options.liveAlias);
  if (why) return { kind: "kept", deletion, reason: why };
  const deletedAliases: string[] = [];
  for (const alias of deletion.aliases) {
    if ((await lambda.deleteAlias(name, alias)) === "deleted") deletedAliases.push(alias);
  }
  const result = await lambda.deleteVersion(name, deletion.functionVersion);
  if (result.kind !== "referenced") return { kind: "deleted", deletion };
  // An alias moved onto the version after the re-check: Lambda kept the version; give back the
  // version aliases just deleted, so the version keeps its semantic names.
  for (const alias of deletedAliases) {
    await lambda.createAlias(name, alias, { functionVersion: deletion.functionVersion, weights: {} });
  }
  return {
    kind: "kept",
    deletion,
    reason: `an alias moved onto version ${deletion.functionVersion} during the deletion (${result.message}); its version aliases were restored`,
  };
}

/**
 * The pipeline's pruning (job parameter `prune`): only after a fully successful apply (every
 * function applied or unchanged); otherwise undefined, and nothing is deleted.
 */
export async function pruneAfterApply(
  report: ApplyReport,
  names: readonly string[],
  options: { lambda: PruneLambda & Pick<LambdaWriter, "listVersions">; liveAlias: string; keep: number; concurrency: number; logger: Logger },
): Promise<PruneReport | undefined> {
  if (!report.results.every((r) => r.status === "applied" || r.status === "unchanged")) {
    options.logger.warn("the apply did not fully succeed: nothing is pruned");
    return undefined;
  }
  const plan = await makePrunePlan(options.lambda, names, options);
  return applyPrune(plan, options);
}
