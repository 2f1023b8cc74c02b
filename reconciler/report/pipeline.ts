/**
 * CodePipeline messages from an apply report: the job summary, the failure message and the output
 * variables, within CodePipeline's limits. Pure functions of the report.
 */
import type { ApplyReport } from "../apply/apply.ts";
import { compareKeys } from "../observe/state.ts";
import { rolloutNote } from "./apply-report.ts";
import { describeDesired } from "./report.ts";
import { truncate } from "./text.ts";

/** CodePipeline limits: executionDetails.summary 2048, failureDetails.message 5000 characters. */
export const MAX_SUMMARY = 2048;
export const MAX_FAILURE_MESSAGE = 5000;

/** Lists items after a lead sentence, stopping with "and N more" before the limit. */
export function listWithin(lead: string, items: readonly string[], max: number): string {
  let text = lead;
  for (let i = 0; i < items.length; i++) {
    const rest = items.length - i - 1;
    const next = `${text}${i === 0 ? " " : "; "}${items[i]}`;
    const tail = rest > 0 ? `; and ${rest} more` : "";
    if (`${next}${tail}`.length > max) {
      return truncate(`${text}${i === 0 ? " " : "; "}and ${items.length - i} more`, max);
    }
    text = next;
  }
  return truncate(text, max);
}

export function jobSummary(report: ApplyReport): string {
  const changed = report.results.filter((r) => r.status === "applied");
  const counts = new Map<string, number>();
  for (const r of report.results) counts.set(r.entry.action.kind, (counts.get(r.entry.action.kind) ?? 0) + 1);
  const countText = [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(", ") || "no functions";
  const lead = `${report.results.length} function(s): ${countText}.${changed.length > 0 ? " Changed:" : " Nothing changed."}`;
  return listWithin(
    lead,
    changed.map((r) => `${r.name} -> ${describeDesired(r.entry)} (v${r.functionVersion})${rolloutNote(r)}`),
    MAX_SUMMARY,
  );
}

/** Output variables: the version now live for each changed function (final success only). */
export function outputVariables(report: ApplyReport): Record<string, string> {
  // fromEntries defines own properties, so a function named "__proto__" keeps its variable.
  return Object.fromEntries(
    report.results
      .filter((r) => r.status === "applied" && r.functionVersion !== null)
      .sort((a, b) => compareKeys(a.key, b.key))
      .map((r) => [r.name, r.functionVersion as string]),
  );
}
