/**
 * Renderers: the plan as JSON (machine-readable, stable keys), as a terminal table, and as a
 * Markdown table fit for a pull-request comment. Pure functions of the plan value.
 */
import type { ApplyReport, FunctionResult } from "../apply/apply.ts";
import type { Problem } from "../core/errors.ts";
import { type ActionKind, type Plan, type PlanEntry, type Routing, summarise } from "../plan/plan.ts";

export interface PlanJsonFunction {
  name: string;
  action: ActionKind;
  desiredVersion: string;
  liveVersion: string | null;
  liveFunctionVersion: string | null;
  targetFunctionVersion: string | null;
  reason: string | null;
  blockCode?: string;
  canary?: { version: string; weight: number };
  routing?: { from: RoutingJson | null; to: RoutingJson | null };
  sources?: { version: string; account: string; functionVersion: string; codeSha256: string }[];
}

export interface RoutingJson {
  functionVersion: string;
  weights: Record<string, number>;
}

export interface PlanJson {
  liveAlias: string;
  functions: PlanJsonFunction[];
  summary: Record<ActionKind, number>;
}

export function targetRouting(entry: PlanEntry): Routing | null {
  const a = entry.action;
  return a.kind === "noop" || a.kind === "rollback" || a.kind === "rollforward" ? a.routing : null;
}

export function entryToJson(entry: PlanEntry): PlanJsonFunction {
  const { action, live, desired } = entry;
  const to = targetRouting(entry);
  const out: PlanJsonFunction = {
    name: entry.name,
    action: action.kind,
    desiredVersion: desired.version,
    liveVersion: live.version,
    liveFunctionVersion: live.functionVersion,
    targetFunctionVersion: to?.functionVersion ?? null,
    reason: action.kind === "blocked" ? action.reason : null,
  };
  if (action.kind === "blocked") out.blockCode = action.code;
  if (desired.canary) out.canary = { ...desired.canary };
  if (desired.canary || Object.keys(live.weights).length > 0) {
    out.routing = {
      from: live.exists
        ? { functionVersion: live.functionVersion ?? "", weights: { ...live.weights } }
        : null,
      to: to ? { functionVersion: to.functionVersion, weights: { ...to.weights } } : null,
    };
  }
  if (action.kind === "promote") {
    out.sources = action.promotions.map((p) => ({
      version: p.version,
      account: p.sourceAccount,
      functionVersion: p.sourceFunctionVersion,
      codeSha256: p.codeSha256,
    }));
  }
  return out;
}

export function planToJson(plan: Plan): PlanJson {
  return { liveAlias: plan.liveAlias, functions: plan.entries.map(entryToJson), summary: summarise(plan) };
}

/** "1.1.1" or "1.1.1 (v7)"; for canaries "1.1.1 + 10% 1.2.0". */
export function describeDesired(entry: PlanEntry): string {
  const { desired } = entry;
  return desired.canary
    ? `${desired.version} + ${desired.canary.weight}% ${desired.canary.version}`
    : desired.version;
}

export function describeLive(entry: PlanEntry): string {
  const { live } = entry;
  if (!live.exists) return "(no alias)";
  const primary = live.version ? `${live.version} (v${live.functionVersion})` : `v${live.functionVersion}`;
  return `${primary}${describeWeights(live.weights)}`;
}

/** " + 10% v4" per additional version (weights as Lambda stores them, 0..1); zero weights omitted. */
function describeWeights(weights: Record<string, number>): string {
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .map(([v, w]) => ` + ${Math.round(w * 10000) / 100}% v${v}`)
    .join("");
}

export function describeDetails(entry: PlanEntry): string {
  const a = entry.action;
  switch (a.kind) {
    case "noop":
      return "already live";
    case "rollback":
    case "rollforward":
      return `repoint to ${describeRouting(a.routing)}`;
    case "promote":
      return a.promotions
        .map(
          (p) =>
            `copy ${p.version} from ${p.sourceAccount} (v${p.sourceFunctionVersion}, sha256 ${p.codeSha256.slice(0, 12)}…)`,
        )
        .join("; ");
    case "blocked":
      return a.reason;
  }
}

function describeRouting(routing: Routing): string {
  return `v${routing.functionVersion}${describeWeights(routing.weights)}`;
}

function summaryLine(plan: Plan): string {
  const counts = summarise(plan);
  const parts = (Object.entries(counts) as [ActionKind, number][])
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return parts.length > 0 ? parts.join(", ") : "no functions";
}

/** A plain-text table for terminals. */
export function renderPlanTable(plan: Plan): string {
  const rows = plan.entries.map((e) => [
    e.name,
    e.action.kind,
    describeLive(e),
    describeDesired(e),
    describeDetails(e),
  ]);
  const header = ["FUNCTION", "ACTION", `${plan.liveAlias} NOW`, "DESIRED", "DETAILS"];
  return [textTable(header, rows), "", `Plan: ${summaryLine(plan)}.`].join("\n");
}

/** Left-aligned columns two spaces apart; the last column is not padded. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [header, ...rows].map(line).join("\n");
}

export const md = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

/** CodeCommit's limit for one pull-request comment (PostCommentForPullRequest `content`). */
export const MAX_COMMENT_LENGTH = 10_240;

export interface PlanMarkdownOptions {
  /** Bold lead of the one-line summary. Default "lambda-gitops plan". */
  title?: string;
  /** Lines printed under the summary, before the table (e.g. which file and commit were planned). */
  context?: readonly string[];
  /**
   * Keep the whole text within this many characters: the summary keeps the full counts, the table
   * keeps its first rows, and a last line says how many functions were left out.
   */
  maxLength?: number;
}

/**
 * A Markdown table fit for a pull-request comment: the one renderer behind both
 * `lambda-gitops plan --format markdown` and the pull-request planner's comment.
 */
export function renderPlanMarkdown(plan: Plan, options: PlanMarkdownOptions = {}): string {
  const head = [
    `**${options.title ?? "lambda-gitops plan"}**: ${summaryLine(plan)}.`,
    ...(options.context ?? []),
    "",
    `| Function | Action | ${plan.liveAlias} now | Desired | Details |`,
    "| --- | --- | --- | --- | --- |",
  ];
  const rows = plan.entries.map(
    (e) =>
      `| \`${e.name}\` | ${e.action.kind === "blocked" ? "**blocked**" : e.action.kind} | ${md(describeLive(e))} | ${md(describeDesired(e))} | ${md(describeDetails(e))} |`,
  );
  return fitMarkdown(
    head,
    rows,
    (n) =>
      `_${n} more function${n === 1 ? "" : "s"} not shown; run \`lambda-gitops plan\` for the full plan._`,
    options.maxLength,
  );
}

/**
 * Problems (definition or settings) as a Markdown list under a one-line lead, each item
 * `file:line:col`, the field and the message; within `maxLength` like renderPlanMarkdown.
 */
export function renderProblemsMarkdown(
  lead: string,
  problems: readonly Problem[],
  options: { context?: readonly string[]; maxLength?: number; more?: string } = {},
): string {
  const head = [lead, ...(options.context ?? []), ""];
  const items = problems.map(
    (p) => `- \`${p.file}:${p.line}:${p.column}\`${p.path ? ` \`${p.path}\`` : ""}: ${md(p.message)}`,
  );
  const more = options.more ?? "run `lambda-gitops validate` for the full list";
  return fitMarkdown(
    head,
    items,
    (n) => `_${n} more problem${n === 1 ? "" : "s"} not shown; ${more}._`,
    options.maxLength,
  );
}

/**
 * `head` then `rows`, one per line. Past `max` characters, keeps the first rows that fit and ends
 * with a blank line (which also ends a Markdown table) and `more(left out)`.
 */
export function fitMarkdown(
  head: readonly string[],
  rows: readonly string[],
  more: (omitted: number) => string,
  max: number | undefined,
): string {
  const full = [...head, ...rows].join("\n");
  if (max === undefined || full.length <= max) return full;
  const note = (omitted: number) => `\n\n${more(omitted)}`;
  let length = head.join("\n").length;
  let kept = 0;
  while (kept < rows.length) {
    const next = length + 1 + (rows[kept] ?? "").length;
    if (next + note(rows.length - kept - 1).length > max) break;
    length = next;
    kept += 1;
  }
  // The head alone is over the limit only with absurd context lines: cut, never exceed.
  return truncate(`${[...head, ...rows.slice(0, kept)].join("\n")}${note(rows.length - kept)}`, max);
}

// ---- Apply results -------------------------------------------------------------------------

export interface ApplyJsonFunction extends PlanJsonFunction {
  status: FunctionResult["status"];
  functionVersion: string | null;
  published?: Record<string, string>;
  error?: string;
}

export interface ApplyJson {
  liveAlias: string;
  functions: ApplyJsonFunction[];
  summary: Record<FunctionResult["status"], number>;
}

export function applyToJson(report: ApplyReport): ApplyJson {
  const summary: Record<FunctionResult["status"], number> = {
    unchanged: 0,
    applied: 0,
    failed: 0,
    skipped: 0,
  };
  const functions = report.results.map((r) => {
    summary[r.status] += 1;
    const out: ApplyJsonFunction = {
      ...entryToJson(r.entry),
      status: r.status,
      functionVersion: r.functionVersion,
    };
    if (Object.keys(r.published).length > 0) out.published = { ...r.published };
    if (r.error !== undefined) out.error = r.error;
    return out;
  });
  return { liveAlias: report.liveAlias, functions, summary };
}

export function renderApplyTable(report: ApplyReport): string {
  const rows = report.results.map((r) => [
    r.name,
    r.entry.action.kind,
    r.status,
    r.functionVersion === null ? "-" : `v${r.functionVersion}`,
    r.error ?? describeDesired(r.entry),
  ]);
  const header = ["FUNCTION", "ACTION", "STATUS", report.liveAlias, "DETAILS"];
  const s = applyToJson(report).summary;
  return [
    textTable(header, rows),
    "",
    `Apply: ${s.applied} applied, ${s.unchanged} unchanged, ${s.failed} failed, ${s.skipped} not started.`,
  ].join("\n");
}

/** Cut text to `max` characters, saying how much was left out. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ` … (${text.length - max} more characters cut)`;
  return `${text.slice(0, Math.max(0, max - marker.length))}${marker}`;
}

/** CodePipeline limits: executionDetails.summary 2048, failureDetails.message 5000 characters. */
export const MAX_SUMMARY = 2048;
export const MAX_FAILURE_MESSAGE = 5000;

/** Lists items after a lead sentence, stopping with "and N more" before the limit. */
function listWithin(lead: string, items: readonly string[], max: number): string {
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
    changed.map((r) => `${r.name} -> ${describeDesired(r.entry)} (v${r.functionVersion})`),
    MAX_SUMMARY,
  );
}

export function jobFailureMessage(report: ApplyReport): string {
  const failed = report.results.filter((r) => r.status === "failed");
  return listWithin(
    `${failed.length} of ${report.results.length} function(s) failed:`,
    failed.map((r) => `${r.name}: ${r.error ?? "failed"}`),
    MAX_FAILURE_MESSAGE,
  );
}

/** Output variables: the version now live for each changed function (final success only). */
export function outputVariables(report: ApplyReport): Record<string, string> {
  // fromEntries defines own properties, so a function named "__proto__" keeps its variable.
  return Object.fromEntries(
    report.results
      .filter((r) => r.status === "applied" && r.functionVersion !== null)
      .map((r) => [r.name, r.functionVersion as string]),
  );
}
