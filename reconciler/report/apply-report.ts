/**
 * Renderers of the apply report: JSON (the plan's fields plus what ran), the terminal table and
 * the per-function words (LIVE before and after, the rollout's outcome). Each reads the one
 * record per function (apply/apply.ts FunctionResult): LIVE after is the routing apply recorded
 * from what actually ran, rollout steps included, never recomputed here. Pure.
 */
import { APPLY_STATUSES, type ApplyReport, type ApplyStatus, type FunctionResult, type StepResult } from "../apply/apply.ts";
import {
  describeDesired,
  describeLiveNamed,
  describeLiveRouting,
  entryToJson,
  knownVersions,
  type PlanJsonFunction,
  withGroup,
} from "./report.ts";
import { stepsOf } from "../plan/plan.ts";
import { jsonDocument, keyWithAccountId, namedRouting, type Where } from "./json.ts";
import { describeOutcome } from "./rollout.ts";
import { textTable } from "./text.ts";

export interface ApplyJsonFunction extends PlanJsonFunction {
  status: ApplyStatus;
  functionVersion: string | null;
  published?: Record<string, string>;
  /** Every step that ran, before and after a re-plan. */
  ran: StepResult[];
  replanned: boolean;
  error?: string;
}

export interface ApplyJson {
  liveAlias: string;
  functions: ApplyJsonFunction[];
  summary: Record<ApplyStatus, number>;
}

export function applyToJson(report: ApplyReport): ApplyJson {
  const summary = Object.fromEntries(APPLY_STATUSES.map((s) => [s, 0])) as Record<ApplyStatus, number>;
  const functions = report.results.map((r) => {
    summary[r.status] += 1;
    const out: ApplyJsonFunction = {
      ...entryToJson(r.entry),
      status: r.status,
      functionVersion: r.functionVersion,
      ran: structuredClone(r.steps),
      replanned: r.replanned,
    };
    if (Object.keys(r.published).length > 0) out.published = { ...r.published };
    if (r.error !== undefined) out.error = r.error;
    return out;
  });
  return { liveAlias: report.liveAlias, functions, summary };
}

/** LIVE before this run, as observed. */
export function liveBefore(r: Pick<FunctionResult, "entry">): string {
  return describeLiveNamed(r.entry);
}

/** LIVE after this run: the routing apply recorded from what ran (route and rollout steps alike). */
export function liveAfter(r: Pick<FunctionResult, "entry" | "liveAfter" | "published">): string {
  return describeLiveRouting(r.liveAfter, knownVersions(r.entry, r.published));
}

/** ": rolled out in 3 steps" (or where the rollout stands) when the function rolled out in this run. */
export function rolloutNote(result: Pick<FunctionResult, "rollout" | "entry">, now?: number): string {
  if (!result.rollout) return "";
  const planned = stepsOf(result.entry).find((s) => s.kind === "rollout");
  return `: ${describeOutcome(result.rollout, now, planned?.kind === "rollout" ? planned.rollout : undefined)}`;
}

export function renderApplyTable(report: ApplyReport): string {
  const rows = report.results.map((r) => [
    withGroup(r.entry),
    r.entry.action.kind,
    r.status,
    liveBefore(r),
    liveAfter(r),
    r.error ?? `${describeDesired(r.entry)}${rolloutNote(r)}`,
  ]);
  const header = ["FUNCTION", "ACTION", "STATUS", `${report.liveAlias} BEFORE`, `${report.liveAlias} AFTER`, "DETAILS"];
  const s = applyToJson(report).summary;
  return [
    textTable(header, rows),
    "",
    `Apply: ${s.applied} applied, ${s.unchanged} unchanged, ${s.failed} failed, ${s.blocked} blocked, ${s.skipped} not started.`,
  ].join("\n");
}

/** apply: the plan's record of each function, its status, and LIVE before and after as structured routing. */
export function applyJson(report: ApplyReport, where: Where, interrupted: boolean) {
  const base = applyToJson(report);
  const functions = base.functions.map((f, i) => {
    const r = report.results[i] as FunctionResult;
    const { live } = r.entry;
    const known = knownVersions(r.entry, r.published);
    const before = live ? namedRouting(live.routing, known) : null;
    const after = r.liveAfter ? namedRouting(r.liveAfter, known) : null;
    return { ...keyWithAccountId(f, where), liveBefore: before, liveAfter: after };
  });
  return jsonDocument("apply", where, { ...base, functions, interrupted });
}
