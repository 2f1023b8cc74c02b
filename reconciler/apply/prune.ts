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
import { observeAllVersions, type VersionsReader } from "../observe/versions.ts";
import {
  buildPrunePlan,
  type Deletion,
  type PruneEntry,
  type PrunePlan,
  routedVersions,
} from "../plan/prune.ts";

export type PruneLambda = Pick<LambdaWriter, "listAliases" | "deleteAlias" | "deleteVersion" | "createAlias">;

/**
 * Observe (ListAliases, ListVersionsByFunction, ListEventSourceMappings, ListProvisionedConcurrencyConfigs
 * per function) and plan the pruning of `names`.
 */
export async function makePrunePlan(
  lambda: VersionsReader,
  names: readonly string[],
  options: { liveAlias: string; keep: number; concurrency: number },
): Promise<PrunePlan> {
  const observations = await observeAllVersions(lambda, names, options.concurrency);
  return buildPrunePlan(names, observations, options.liveAlias, options.keep);
}

export type DeletionOutcome =
  | { kind: "deleted"; deletion: Deletion }
  | { kind: "kept"; deletion: Deletion; reason: string }
  /** Not attempted: the deadline was near (the pipeline's prune after apply); the next run prunes it. */
  | { kind: "left"; deletion: Deletion; reason: string };

/** Time one deletion needs (a ListAliases, its DeleteAlias calls, a DeleteFunction, paced to 15/s). */
export const PRUNE_STEP_NEEDED_MS = 10_000;

export type PruneResult =
  | { name: string; status: "pruned" | "unchanged"; outcomes: DeletionOutcome[] }
  /** `deferred`: not pruned for lack of time before the deadline; the next run prunes it. */
  | { name: string; status: "skipped"; reason: string; deferred?: true }
  | { name: string; status: "failed"; outcomes: DeletionOutcome[]; error: string };

export interface PruneReport {
  results: PruneResult[];
}

export interface PruneApplyOptions {
  lambda: PruneLambda;
  liveAlias: string;
  concurrency: number;
  logger: Logger;
  /** Milliseconds left before the invocation must report (absent: no deadline, the CLI). */
  timeLeftMs?: () => number;
}

/** Why no more deletions may start now (the deadline); undefined when one fits. */
function outOfTime(options: Pick<PruneApplyOptions, "timeLeftMs">): string | undefined {
  const left = options.timeLeftMs?.();
  if (left === undefined || left >= PRUNE_STEP_NEEDED_MS) return undefined;
  return `left for the next run: ${Math.max(0, Math.round(left / 1000))} s were left before the deadline, ${PRUNE_STEP_NEEDED_MS / 1000} s needed per deletion`;
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
    for (const [index, deletion] of entry.deletions.entries()) {
      const late = outOfTime(options);
      if (late) {
        // Stop cleanly before the deadline: what is left is reported, and the next run prunes it.
        outcomes.push(...entry.deletions.slice(index).map((d) => ({ kind: "left" as const, deletion: d, reason: late })));
        log.warn("prune stopped before the deadline", { left: entry.deletions.length - index });
        break;
      }
      const outcome = await deleteOne(entry.name, deletion, options);
      outcomes.push(outcome);
      if (outcome.kind !== "deleted") log.warn("kept a version the plan would delete", { version: deletion.functionVersion, reason: outcome.reason });
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
  options: { lambda: PruneLambda & VersionsReader; liveAlias: string; keep: number; concurrency: number; logger: Logger; timeLeftMs?: () => number },
): Promise<PruneReport | undefined> {
  if (!report.results.every((r) => r.status === "applied" || r.status === "unchanged")) {
    options.logger.warn("the apply did not fully succeed: nothing is pruned");
    return undefined;
  }
  const late = outOfTime(options);
  if (late) {
    options.logger.warn("no time left to prune before the deadline: nothing is pruned this run", { reason: late });
    return { results: names.map((name) => ({ name, status: "skipped", reason: late, deferred: true })) };
  }
  const plan = await makePrunePlan(options.lambda, names, options);
  return applyPrune(plan, options);
}
