/**
 * Renderers of the plan: as JSON (machine-readable, stable keys), as a terminal table, and as a
 * Markdown table fit for a pull-request comment; and the words for LIVE and its versions that the
 * apply report (./apply-report.ts) and status (./status.ts) share. Pure functions of the values.
 * CodePipeline's messages are in ./pipeline.ts.
 */
import type { Problem } from "../core/errors.ts";
import type { FunctionKey } from "../observe/state.ts";
import {
  type ActionKind,
  finalRouting,
  liveRouting,
  type Plan,
  type PlanEntry,
  stepsOf,
  summarise,
} from "../plan/plan.ts";
import { liveCreationWarning } from "../plan/live-creation.ts";
import { driftOf, type DriftVerdict } from "../plan/drift.ts";
import {
  type AliasRouting,
  describeAdditional,
  describeRouting,
  describeVersion,
  refOf,
  type Routing,
  routingOfAlias,
  toAliasRouting,
} from "../plan/routing.ts";
import type { Step } from "../plan/steps.ts";
import { describePosition, describeRollout } from "./rollout.ts";
import { textTable, truncate } from "./text.ts";

export interface PlanJsonFunction {
  name: string;
  action: ActionKind;
  desiredVersion: string;
  liveVersion: string | null;
  liveFunctionVersion: string | null;
  targetFunctionVersion: string | null;
  reason: string | null;
  blockCode?: string;
  /** Why a noop leaves a LIVE that does not read exactly as declared (provisioned concurrency shifting). */
  note?: string;
  /** The release set the function moves with, if any. */
  group?: string;
  canary?: { version: string; weight: number };
  /** Only for canaries (declared or live): LIVE's routing now and after apply, as Lambda stores it. */
  routing?: { from: RoutingJson | null; to: RoutingJson | null };
  sources?: { version: string; account: string; functionVersion: string; codeSha256: string }[];
  /** What identifies the function in AWS. */
  key: FunctionKey;
  /** Every step apply takes, in order (none for noop and blocked). */
  steps: Step[];
  /** Where LIVE points after apply (canonical form; null when blocked). */
  finalRouting: Routing | null;
  /**
   * LIVE against what the reconciler last wrote (its marker) and the file: `drifted` means someone
   * moved LIVE out of band (plan/drift.ts).
   */
  drift: DriftVerdict;
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

/** Where LIVE points after apply; a version a stage step publishes is shown as that step's. */
export function targetRouting(entry: PlanEntry): Routing | null {
  return finalRouting(entry);
}

export function entryToJson(entry: PlanEntry): PlanJsonFunction {
  const { action, live, declared } = entry;
  const final = finalRouting(entry);
  const to = final ? toAliasRouting(final) : undefined;
  const from = liveRouting(live);
  const stages = stepsOf(entry).flatMap((s) => (s.kind === "stage" ? [s] : []));
  const showRouting = declared.canary !== undefined || Object.keys(live?.routing.weights ?? {}).length > 0;
  return {
    name: entry.name,
    action: action.kind,
    desiredVersion: declared.version,
    liveVersion: live?.version ?? null,
    liveFunctionVersion: live?.routing.functionVersion ?? null,
    targetFunctionVersion: to?.functionVersion ?? null,
    reason: action.kind === "blocked" ? action.reason : null,
    ...(action.kind === "blocked" ? { blockCode: action.code } : {}),
    ...(action.kind === "noop" && action.note ? { note: action.note } : {}),
    ...(declared.canary ? { canary: { ...declared.canary } } : {}),
    ...(showRouting ? { routing: { from: from ? (toAliasRouting(from) ?? null) : null, to: to ?? null } } : {}),
    ...(stages.length > 0
      ? {
          sources: stages.map((s) => ({
            version: s.version,
            account: s.source.account,
            functionVersion: s.source.functionVersion,
            codeSha256: s.source.codeSha256,
          })),
        }
      : {}),
    ...(entry.group !== undefined ? { group: entry.group } : {}),
    key: { ...entry.key },
    steps: structuredClone([...stepsOf(entry)]),
    finalRouting: final ? structuredClone(final) : null,
    drift: structuredClone(driftOf(entry)),
  };
}

export function planToJson(plan: Plan): PlanJson {
  return { liveAlias: plan.liveAlias, functions: plan.entries.map(entryToJson), summary: summarise(plan) };
}

/** "1.1.1" or "1.1.1 (v7)"; for canaries "1.1.1 + 10% 1.2.0". */
export function describeDesired(entry: Pick<PlanEntry, "declared">): string {
  const { declared } = entry;
  return declared.canary
    ? `${declared.version} + ${declared.canary.weight}% ${declared.canary.version}`
    : declared.version;
}

export function describeLive(entry: PlanEntry): string {
  const routing = liveRouting(entry.live);
  if (!routing || !entry.live) return "(no alias)";
  const { version } = entry.live;
  const primary = describeVersion(routing.primary);
  return `${version ? `${version} (${primary})` : primary}${describeAdditional(routing)}`;
}

/** "v3 + 10% v4" for a routing as Lambda's alias API holds it. */
export function describeAliasRouting(routing: AliasRouting): string {
  return describeRouting(routingOfAlias(routing));
}

/** The action, marked when LIVE drifted: "rollforward (drift)". */
export function actionLabel(entry: PlanEntry): string {
  return driftOf(entry).kind === "drifted" ? `${entry.action.kind} (drift)` : entry.action.kind;
}

/** "LIVE was moved out of band: the reconciler wrote v6, it routes v5 now (file unchanged); " or "". */
export function driftNote(entry: PlanEntry, liveAlias: string): string {
  const drift = driftOf(entry);
  if (drift.kind !== "drifted") return "";
  return `${liveAlias} was moved out of band: the reconciler wrote ${describeAliasRouting(drift.expected)}, it routes ${describeAliasRouting(drift.actual)} now (${drift.fileChanged ? "the file changed too" : "file unchanged"}); `;
}

export function describeDetails(entry: PlanEntry): string {
  const a = entry.action;
  switch (a.kind) {
    case "noop":
      return a.note ? `already live; ${a.note}` : "already live";
    case "rollback":
    case "rollforward":
      return `repoint to ${describeRouting(a.routing)}${rolloutDetails(a.steps)}`;
    case "create":
      return `create ${entryLiveAlias(a)} -> ${describeRouting(a.routing)}`;
    case "promote":
      return [
        ...a.steps.flatMap((s) =>
          s.kind === "stage"
            ? [
                `copy ${s.version} from ${s.source.account} (v${s.source.functionVersion}, sha256 ${s.source.codeSha256.slice(0, 12)}…)`,
              ]
            : [],
        ),
        `then ${entryLiveAlias(a)} -> ${describeRouting(a.routing)}${rolloutDetails(a.steps)}`,
      ].join("; ");
    case "blocked":
      return a.reason;
  }
}

/** "; rollout 10% -> 50% -> 100%, every 5m, ...; rollout step 2 of 3, next shift at 16:05Z" for a rollout step. */
function rolloutDetails(steps: readonly Step[]): string {
  const last = steps.at(-1);
  if (last?.kind !== "rollout") return "";
  return `; rollout ${describeRollout(last.rollout)}; ${describePosition(last.position, undefined, last.rollout)}`;
}

function entryLiveAlias(action: Exclude<PlanEntry["action"], { kind: "blocked" }>): string {
  return action.steps[action.steps.length - 1]?.alias ?? "LIVE";
}

function summaryLine(plan: Plan): string {
  const counts = summarise(plan);
  const parts = (Object.entries(counts) as [ActionKind, number][])
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return parts.length > 0 ? parts.join(", ") : "no functions";
}

/** "team-a-api [orders]": the function and its release set, if any. */
export function withGroup(entry: Pick<PlanEntry, "name" | "group">): string {
  return entry.group !== undefined ? `${entry.name} [${entry.group}]` : entry.name;
}

/** A plain-text table for terminals. */
export function renderPlanTable(plan: Plan): string {
  const rows = plan.entries.map((e) => [
    withGroup(e),
    actionLabel(e),
    describeLive(e),
    describeDesired(e),
    driftNote(e, plan.liveAlias) + describeDetails(e),
  ]);
  const header = ["FUNCTION", "ACTION", `${plan.liveAlias} NOW`, "DESIRED", "DETAILS"];
  return [textTable(header, rows), "", `Plan: ${summaryLine(plan)}.`].join("\n");
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
  const warning = liveCreationWarning(plan);
  const head = [
    `**${options.title ?? "lambda-gitops plan"}**: ${summaryLine(plan)}.`,
    // Creating LIVE on most functions is loud: usually a mistyped alias or the wrong account.
    ...(warning ? ["", `> :warning: **${md(warning)}**`, ""] : []),
    ...(options.context ?? []),
    "",
    `| Function | Action | ${plan.liveAlias} now | Desired | Details |`,
    "| --- | --- | --- | --- | --- |",
  ];
  const rows = plan.entries.map(
    (e) =>
      `| \`${e.name}\`${e.group !== undefined ? ` (group \`${e.group}\`)` : ""} | ${e.action.kind === "blocked" ? "**blocked**" : actionLabel(e)} | ${md(describeLive(e))} | ${md(describeDesired(e))} | ${md(driftNote(e, plan.liveAlias) + describeDetails(e))} |`,
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

/**
 * The semantic version of each function version this entry knows: LIVE's primary, the plan's
 * routing, the marker LIVE carries (what lambda-gitops last wrote) and what this run published.
 */
export function knownVersions(entry: PlanEntry, published: Record<string, string> = {}): Map<string, string> {
  const known = new Map<string, string>();
  const { live } = entry;
  const marker = live?.marker;
  if (marker) {
    known.set(marker.functionVersion, marker.version);
    const [canary] = Object.keys(marker.weights);
    if (marker.canary && canary !== undefined) known.set(canary, marker.canary.version);
  }
  const final = finalRouting(entry);
  for (const routed of final ? [final.primary, ...final.additional.map((w) => w.target)] : []) {
    if ("functionVersion" in routed && routed.version !== null) known.set(routed.functionVersion, routed.version);
  }
  for (const [version, functionVersion] of Object.entries(published)) known.set(functionVersion, version);
  if (live && live.version !== null) known.set(live.routing.functionVersion, live.version);
  return known;
}

/** "1.2.0 (v7) + 10% 1.3.0 (v8)": a routing as Lambda stores it, named with the semantic versions known. */
export function describeNamedRouting(routing: AliasRouting, known: ReadonlyMap<string, string>): string {
  const name = (functionVersion: string) => {
    const version = known.get(functionVersion);
    return version ? `${version} (v${functionVersion})` : `v${functionVersion}`;
  };
  const canonical = routingOfAlias(routing);
  return [
    name(routing.functionVersion),
    ...canonical.additional.map((w) => `${Math.round(w.weight * 10000) / 100}% ${name(refOf(w.target))}`),
  ].join(" + ");
}

/** LIVE as observed (before any apply), named with the semantic versions the entry knows. */
export function describeLiveNamed(entry: PlanEntry): string {
  return describeLiveRouting(entry.live?.routing ?? null, knownVersions(entry));
}

/** A routing LIVE has (or had), named with the known semantic versions; "(no alias)" for none. */
export function describeLiveRouting(routing: AliasRouting | null, known: ReadonlyMap<string, string>): string {
  return routing ? describeNamedRouting(routing, known) : "(no alias)";
}
