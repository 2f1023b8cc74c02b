/**
 * Renderers of a prune plan and of a prune run: JSON (stable keys), a terminal table, Markdown.
 * Pure functions of the values.
 */
import type { PruneReport } from "../apply/prune.ts";
import {
  type Deletion,
  describeKeepReason,
  type PrunePlan,
  pruneSteps,
  summarisePrune,
} from "../plan/prune.ts";
import { md } from "./report.ts";
import { textTable } from "./text.ts";

export function prunePlanToJson(plan: PrunePlan) {
  return {
    liveAlias: plan.liveAlias,
    keep: plan.keep,
    functions: plan.entries.map((e) =>
      e.kind === "skipped"
        ? { name: e.name, kind: e.kind, code: e.code, reason: e.reason }
        : {
            name: e.name,
            kind: e.kind,
            liveFunctionVersion: e.live,
            keep: e.keep.map((k) => ({ ...k, reasons: k.reasons.map(describeKeepReason) })),
            delete: e.deletions,
            steps: pruneSteps(e),
          },
    ),
    summary: summarisePrune(plan),
  };
}

/** "v4 (1.4.0)"; $LATEST is named as such, never "v$LATEST". */
const versionLabel = (v: { functionVersion: string; versions: string[] }) => {
  const name = /^\d+$/.test(v.functionVersion) ? `v${v.functionVersion}` : v.functionVersion;
  return v.versions.length > 0 ? `${name} (${v.versions.join(", ")})` : name;
};
const deletedText = (d: Deletion) => `${versionLabel(d)}: ${d.reason}`;

function rows(plan: PrunePlan): string[][] {
  return plan.entries.flatMap((e) => {
    if (e.kind === "skipped") return [[e.name, "skip", "", e.reason]];
    return [
      ...e.deletions.map((d) => [e.name, "delete", versionLabel(d), d.reason]),
      ...e.keep.map((k) => [e.name, "keep", versionLabel(k), k.reasons.map(describeKeepReason).join(", ")]),
    ];
  });
}

export function summaryText(plan: PrunePlan): string {
  const s = summarisePrune(plan);
  return `${s.versions} version(s) and ${s.aliases} version alias(es) to delete in ${s.functions - s.skipped} function(s), keeping the ${plan.keep} highest version(s); ${s.skipped} function(s) skipped`;
}

export function renderPruneTable(plan: PrunePlan): string {
  return [textTable(["FUNCTION", "DO", "VERSION", "WHY"], rows(plan)), "", `Prune: ${summaryText(plan)}.`].join("\n");
}

export function renderPruneMarkdown(plan: PrunePlan): string {
  return [
    `**lambda-gitops prune**: ${summaryText(plan)}.`,
    "",
    "| function | do | version | why |",
    "| --- | --- | --- | --- |",
    ...rows(plan).map((r) => `| ${r.map((c) => md(c)).join(" | ")} |`),
  ].join("\n");
}

export function renderPrunePlan(plan: PrunePlan, format: "table" | "json" | "markdown"): string {
  if (format === "json") return JSON.stringify(prunePlanToJson(plan), null, 2);
  if (format === "markdown") return renderPruneMarkdown(plan);
  return renderPruneTable(plan);
}

export function pruneReportToJson(report: PruneReport) {
  return {
    functions: report.results.map((r) =>
      r.status === "skipped"
        ? r
        : {
            name: r.name,
            status: r.status,
            deleted: r.outcomes.filter((o) => o.kind === "deleted").map((o) => o.deletion),
            kept: r.outcomes.flatMap((o) => (o.kind === "kept" ? [{ ...o.deletion, keptBecause: o.reason }] : [])),
            left: r.outcomes.flatMap((o) => (o.kind === "left" ? [{ ...o.deletion, leftBecause: o.reason }] : [])),
            ...(r.status === "failed" ? { error: r.error } : {}),
          },
    ),
  };
}

export function renderPruneReport(report: PruneReport): string {
  const lines = report.results.flatMap((r) => {
    if (r.status === "skipped") return [[r.name, "skipped", "", r.reason]];
    const rows = r.outcomes.map((o) =>
      o.kind === "deleted" ? [r.name, "deleted", deletedText(o.deletion), ""] : [r.name, o.kind, versionLabel(o.deletion), o.reason],
    );
    if (r.status === "failed") rows.push([r.name, "failed", "", r.error]);
    if (rows.length === 0) rows.push([r.name, "unchanged", "", "nothing to delete"]);
    return rows;
  });
  return textTable(["FUNCTION", "RESULT", "VERSION", "DETAILS"], lines);
}

/** One line for the pipeline's job summary: "pruned 3 version(s) in 2 function(s)[, N kept, M failed]". */
export function pruneJobSummary(report: PruneReport): string {
  let deleted = 0;
  let kept = 0;
  let left = 0;
  let deferred = 0;
  const functions = new Set<string>();
  const failed: string[] = [];
  for (const r of report.results) {
    if (r.status === "skipped") {
      if (r.deferred) deferred += 1;
      continue;
    }
    for (const o of r.outcomes) {
      if (o.kind === "deleted") {
        deleted += 1;
        functions.add(r.name);
      } else if (o.kind === "left") left += 1;
      else kept += 1;
    }
    if (r.status === "failed") failed.push(r.name);
  }
  const extra = [
    ...(kept > 0 ? [`${kept} kept because they serve traffic now`] : []),
    ...(failed.length > 0 ? [`pruning failed for ${failed.join(", ")}`] : []),
    ...(left > 0 ? [`${left} left for the next run (the deadline was near)`] : []),
    ...(deferred > 0 ? [`${deferred} function(s) not pruned: no time left before the deadline; the next run prunes them`] : []),
  ];
  return `Pruned ${deleted} version(s) in ${functions.size} function(s)${extra.length > 0 ? `; ${extra.join("; ")}` : ""}.`;
}
