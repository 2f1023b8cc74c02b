/**
 * The run: executes each plan entry's steps (./stage.ts, ./route.ts) in order, one function per
 * task, concurrently (p-limit). Each task settles into a result value: one function's failure never
 * cancels another's. A concurrent change (PreconditionFailedException, or the source alias moving
 * since planning) makes that one function re-observe and re-plan once, then run the fresh steps;
 * the result keeps every step that ran, before and after the re-plan.
 *
 * Idempotent by construction: a plan made right after a successful run is all `noop`, so a second
 * run makes no mutating call; a run killed half-way leaves state the next plan picks up (code
 * already on $LATEST is not uploaded again, an existing version alias with the same code is kept).
 */
import pLimit from "p-limit";
import { describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { aliasRouting, type FunctionKey } from "../observe/state.ts";
import { type Plan, type PlanEntry, stepsOf, takesNoStep } from "../plan/plan.ts";
import { failureReason, rolloutFailed, type RolloutOutcome } from "../plan/rollout.ts";
import type { AliasRouting } from "../plan/routing.ts";
import type { LatestGuard } from "../plan/steps.ts";
import { replanOnce, StepFailure, type StepDeps } from "./execution.ts";
import { isHandOver, withinDeadline } from "./deadline.ts";
import { route } from "./route.ts";
import { rolloutStep } from "./rollout.ts";
import { stage } from "./stage.ts";

export type { Stager } from "./execution.ts";
export { STAGED_UPLOAD_LIMIT } from "./stage.ts";

/** `blocked`: the plan said the function cannot be reconciled (no call made); it fails the run like `failed`. */
export type ApplyStatus = "unchanged" | "applied" | "failed" | "skipped" | "blocked";
export const APPLY_STATUSES: readonly ApplyStatus[] = ["unchanged", "applied", "failed", "skipped", "blocked"];

/** One step that ran to its end. */
export type StepResult =
  | { kind: "stage"; version: string; alias: string; functionVersion: string; reused: boolean }
  | { kind: "route"; alias: string; routing: AliasRouting; description: string; changed: boolean }
  /** A rollout step: how far it went in this run (done, in progress, rolled back...) and LIVE after. */
  | { kind: "rollout"; alias: string; routing: AliasRouting; outcome: RolloutOutcome };

/**
 * One function's record from plan to report (in the spirit of Flux's ChangeSetEntry): what was
 * observed and planned (`entry`: LIVE as observed, the steps planned), what each step did
 * (`steps`), and the routing LIVE ended with (`liveAfter`). Every renderer reads this record.
 */
export interface FunctionResult {
  key: FunctionKey;
  name: string;
  /** The entry that was executed last (the re-planned one after a concurrent change). */
  entry: PlanEntry;
  status: ApplyStatus;
  /**
   * LIVE's routing after this run, from what actually ran: the last route or rollout step's
   * answer, else LIVE as observed (null: no LIVE alias).
   */
  liveAfter: AliasRouting | null;
  /** The version LIVE routes its primary traffic to after this run (liveAfter's primary), when known. */
  functionVersion: string | null;
  /** How far this run took the function's rollout (null: no rollout step ran). */
  rollout: RolloutOutcome | null;
  /** Versions published by this run (semver -> function version), before and after a re-plan. */
  published: Record<string, string>;
  /** Every step that ran, in order, before and after a re-plan. */
  steps: StepResult[];
  /** True when a concurrent change made this function re-plan. */
  replanned: boolean;
  error?: string;
}

/** A rollout that this run left in progress (waiting for its next shift or the end of its bake). */
export function rolloutInProgress(result: Pick<FunctionResult, "rollout">): boolean {
  return result.rollout?.kind === "in-progress";
}

/** A result that fails the run (and the pipeline job): failed or blocked. */
export function fails(result: Pick<FunctionResult, "status">): boolean {
  return result.status === "failed" || result.status === "blocked";
}

export interface ApplyReport {
  liveAlias: string;
  results: FunctionResult[];
}

export interface ApplyDeps extends StepDeps {
  liveAlias: string;
  concurrency: number;
  /** Re-observe and re-plan one function (after a concurrent change). */
  replan: (key: FunctionKey) => Promise<PlanEntry>;
  /** Checked before each function starts: false stops starting new work (Lambda deadline). */
  canStart?: () => boolean;
  logger: Logger;
  /** Told as each function finishes (the CLI's progress). */
  onResult?: (result: FunctionResult) => void;
}

export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyReport> {
  const limit = pLimit(deps.concurrency);
  const results = await Promise.all(
    plan.entries.map((entry) =>
      limit(async () => {
        const result = await applyFunction(entry, deps);
        deps.onResult?.(result);
        return result;
      }),
    ),
  );
  return { liveAlias: plan.liveAlias, results };
}

/** What ran so far for one function, across a re-plan. */
class Progress {
  readonly steps: StepResult[] = [];
  replanned = false;

  result(entry: PlanEntry, status: ApplyStatus, error?: string): FunctionResult {
    const published: Record<string, string> = {};
    let liveAfter: AliasRouting | null = entry.live ? aliasRouting(entry.live.routing) : null;
    let rollout: RolloutOutcome | null = null;
    for (const step of this.steps) {
      if (step.kind === "stage") published[step.version] = step.functionVersion;
      else liveAfter = step.routing;
      if (step.kind === "rollout") rollout = step.outcome;
    }
    const out: FunctionResult = {
      key: entry.key,
      name: entry.name,
      entry,
      status,
      liveAfter,
      functionVersion: liveAfter?.functionVersion ?? null,
      rollout,
      published,
      steps: [...this.steps],
      replanned: this.replanned,
    };
    if (error !== undefined) out.error = error;
    return out;
  }
}

export async function applyFunction(entry: PlanEntry, unbounded: ApplyDeps): Promise<FunctionResult> {
  // Every wait and download within the time left (apply/deadline.ts).
  const deps = withinDeadline(unbounded);
  const progress = new Progress();
  // noop and blocked take no step: they are reported whatever the time left (and do not ask for it).
  if (!takesNoStep(entry.action) && deps.canStart && !deps.canStart()) return progress.result(entry, "skipped");
  const log = deps.logger.child({ function: entry.name, action: entry.action.kind });
  return replanOnce(
    entry,
    {
      name: entry.name,
      log,
      replan: (stale) => deps.replan(stale.key),
      replannedLog: (fresh) => ({ action: fresh.action.kind }),
      onReplan: () => {
        progress.replanned = true;
      },
    },
    (current, currentLog) => run(current, deps, currentLog, progress),
    (current, error) =>
      isHandOver(error)
        ? handedOver(current, error as Error, log, progress)
        : failed(current, error, log, progress),
  );
}

/** Not enough time for the next step: skipped now, finished by the next round (continuation token). */
function handedOver(entry: PlanEntry, error: Error, log: Logger, progress: Progress): FunctionResult {
  log.warn("handed over to the next round", { reason: error.message });
  return progress.result(entry, "skipped", error.message);
}

function failed(entry: PlanEntry, error: unknown, log: Logger, progress: Progress): FunctionResult {
  const message = error instanceof StepFailure ? error.message : describeError(error);
  log.error("failed", { error: message });
  return progress.result(entry, "failed", message);
}

/** Execute the entry's steps in order; stage references resolve to what the stage steps produced. */
async function run(entry: PlanEntry, deps: ApplyDeps, log: Logger, progress: Progress): Promise<FunctionResult> {
  const { action } = entry;
  if (action.kind === "blocked") {
    log.error("blocked", { code: action.code, error: action.reason });
    return progress.result(entry, "blocked", action.reason);
  }
  const produced = new Map<number, string>();
  let latest: LatestGuard | undefined;
  for (const [index, step] of stepsOf(entry).entries()) {
    if (step.kind === "stage") {
      const outcome = await stage(entry.name, step, latest ?? step.latest, deps, log);
      produced.set(index, outcome.functionVersion);
      latest = outcome.latest;
      progress.steps.push({
        kind: "stage",
        version: step.version,
        alias: step.alias,
        functionVersion: outcome.functionVersion,
        reused: outcome.reused,
      });
    } else if (step.kind === "rollout") {
      const { outcome, routing } = await rolloutStep(entry.name, step, produced, deps, log);
      progress.steps.push({ kind: "rollout", alias: step.alias, routing, outcome });
      if (rolloutFailed(outcome)) {
        // A failed rollout is a failed result (the outcome says why), not an exception.
        const reason = failureReason(outcome);
        log.error("failed", { error: reason });
        return progress.result(entry, "failed", reason);
      }
    } else {
      const outcome = await route(entry.name, step, produced, deps, log);
      progress.steps.push({ kind: "route", alias: step.alias, ...outcome });
    }
  }
  return progress.result(entry, progress.steps.length > 0 ? "applied" : "unchanged");
}
