/**
 * `lambda-gitops status`: per function, where LIVE routes now (with semantic versions), any rollout
 * in progress (the marker in LIVE's description, observe/marker.ts), whether LIVE was changed outside
 * lambda-gitops since it last wrote it, and drift from the file (what apply would do). Pure: a
 * function of the plan, which holds everything observed in one read-only pass.
 */
import { driftOf } from "../plan/drift.ts";
import type { Plan, PlanEntry } from "../plan/plan.ts";
import { stepOfText } from "../plan/rollout.ts";
import { describeDesired, describeLiveNamed } from "./report.ts";
import { textTable } from "./text.ts";

/**
 * `pending`: out of sync, waiting only for what this read-only view was not given (a promotion
 * whose version is in the source account, with no source role to check it): a gate reports it as
 * out of sync, not as an error.
 */
export type SyncState = "in-sync" | "drift" | "pending" | "blocked";
export const SYNC_STATES: readonly SyncState[] = ["in-sync", "drift", "pending", "blocked"];

export interface RolloutStatus {
  fromVersion: string;
  step: number;
  steps: number;
  /** When the current step began (ISO 8601, UTC). */
  since: string;
  /** At 100% after the last partial step (baking). */
  baking: boolean;
}

export interface FunctionStatus {
  name: string;
  /** LIVE now, e.g. "1.2.0 (v7) + 10% 1.3.0 (v8)"; "(no alias)" when it does not exist. */
  live: string;
  /** What the file declares, e.g. "1.2.0 + 10% 1.3.0". */
  desired: string;
  state: SyncState;
  /** What apply would do (the plan's action), or why it cannot (blocked). */
  detail: string;
  rollout: RolloutStatus | null;
  /** LIVE no longer routes as lambda-gitops last wrote it (its marker): changed by hand or by another tool. */
  changedOutside: boolean;
}

export function functionStatus(entry: PlanEntry): FunctionStatus {
  const { live, action } = entry;
  // LIVE no longer routes as the marker says it was written: the drift verdict says so.
  const outside = driftOf(entry).kind === "drifted";
  const r = live?.marker?.rollout;
  // At 100% with the plan a noop: the rollout decision found the bake over (done), so nothing is
  // in progress any more, whatever the bake's length (0 s included).
  const finished = r !== undefined && r.step > r.steps && action.kind === "noop";
  return {
    name: entry.name,
    live: describeLiveNamed(entry),
    desired: describeDesired(entry),
    state: syncState(action),
    detail: action.kind === "blocked" ? action.reason : action.kind,
    // A rollout recorded in a marker that LIVE no longer matches is not in progress any more.
    rollout:
      r && !outside && !finished
        ? {
            fromVersion: r.fromVersion,
            step: r.step,
            steps: r.steps,
            since: new Date(r.since * 1000).toISOString(),
            baking: r.step > r.steps,
          }
        : null,
    changedOutside: outside,
  };
}

function syncState(action: PlanEntry["action"]): SyncState {
  if (action.kind === "noop") return "in-sync";
  if (action.kind !== "blocked") return "drift";
  return action.code === "no-source" ? "pending" : "blocked";
}

export function describeRollout(rollout: RolloutStatus | null): string {
  if (!rollout) return "-";
  return rollout.baking
    ? `at 100%, baking since ${rollout.since} (from ${rollout.fromVersion})`
    : `${stepOfText(rollout)} since ${rollout.since} (from ${rollout.fromVersion})`;
}

function describeState(s: FunctionStatus): string {
  const base =
    s.state === "in-sync"
      ? "in sync"
      : s.state === "blocked"
        ? `blocked: ${s.detail}`
        : s.state === "pending"
          ? `pending: ${s.detail}`
          : `drift: apply would ${s.detail}`;
  return s.changedOutside ? `${base}; LIVE was changed outside lambda-gitops` : base;
}

export function renderStatusTable(plan: Plan): string {
  const statuses = plan.entries.map(functionStatus);
  const rows = statuses.map((s) => [s.name, s.live, s.desired, describeRollout(s.rollout), describeState(s)]);
  const count = (state: SyncState) => statuses.filter((s) => s.state === state).length;
  const outside = statuses.filter((s) => s.changedOutside).length;
  return [
    textTable(["FUNCTION", `${plan.liveAlias} NOW`, "FILE", "ROLLOUT", "STATE"], rows),
    "",
    `Status: ${count("in-sync")} in sync, ${count("drift")} drift, ${count("pending") > 0 ? `${count("pending")} pending, ` : ""}${count("blocked")} blocked${outside > 0 ? `; ${outside} changed outside lambda-gitops` : ""}.`,
  ].join("\n");
}
