/**
 * A saved plan (`plan --out plan.json`, `apply --plan plan.json`): the plan a reviewer read, with
 * what it observed (LIVE's routing and RevisionId, the source versions and hashes), the definition
 * text and the settings it was made with, and where (account, Region). Versioned (`version`).
 *
 * Applying it never trusts the file for what to execute: the definition is validated again
 * (schema and prefix policy), every function is observed again, and the fresh plan must equal the
 * saved one entry by entry; any difference (LIVE moved, a RevisionId changed, a source version
 * changed) refuses the whole apply, naming each function. Pure: encode, decode, compare.
 */
import type { Plan } from "./plan.ts";

export const SAVED_PLAN_FORMAT = "lambda-gitops-plan";
/** 2: entries carry `declared` and LIVE as one `live` value (observe/live.ts), or null. */
export const SAVED_PLAN_VERSION = 2;

export interface SavedPlan {
  format: typeof SAVED_PLAN_FORMAT;
  version: typeof SAVED_PLAN_VERSION;
  createdAt: string;
  toolVersion: string;
  /** The definition file as planned: its name and its whole text. */
  file: string;
  definition: string;
  /** `--target` names, or null for every function. */
  targets: string[] | null;
  /** The job parameters the plan was made with (validated again when applied). */
  settings: Record<string, unknown>;
  target: { account: string | null; region: string | null };
  source: { account: string | null; roleArn: string } | null;
  /** The plan value itself, with everything it observed. */
  plan: unknown;
}

export function encodeSavedPlan(saved: Omit<SavedPlan, "format" | "version" | "plan"> & { plan: Plan }): string {
  const value: SavedPlan = { format: SAVED_PLAN_FORMAT, version: SAVED_PLAN_VERSION, ...saved, plan: saved.plan };
  return `${JSON.stringify(value, null, 2)}\n`;
}

export type Decoded = { ok: true; saved: SavedPlan } | { ok: false; message: string };

/** Read a saved plan's envelope; what it says is checked again by whoever applies it. */
export function decodeSavedPlan(text: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, message: "is not a saved plan (not JSON); make one with lambda-gitops plan --out FILE" };
  }
  if (!isRecord(value) || value.format !== SAVED_PLAN_FORMAT) {
    return { ok: false, message: "is not a saved plan; make one with lambda-gitops plan --out FILE" };
  }
  if (value.version !== SAVED_PLAN_VERSION) {
    return {
      ok: false,
      message: `is a saved plan of format version ${JSON.stringify(value.version)}; this lambda-gitops reads version ${SAVED_PLAN_VERSION}: plan again with this version`,
    };
  }
  const target = value.target;
  const source = value.source;
  const wellFormed =
    typeof value.createdAt === "string" &&
    typeof value.toolVersion === "string" &&
    typeof value.file === "string" &&
    typeof value.definition === "string" &&
    (value.targets === null || (Array.isArray(value.targets) && value.targets.every((t) => typeof t === "string"))) &&
    isRecord(value.settings) &&
    isRecord(target) &&
    nullableString(target.account) &&
    nullableString(target.region) &&
    (source === null || (isRecord(source) && nullableString(source.account) && typeof source.roleArn === "string")) &&
    isRecord(value.plan);
  if (!wellFormed) return { ok: false, message: "is a damaged saved plan (missing or mistyped fields): plan again" };
  return { ok: true, saved: value as unknown as SavedPlan };
}

/**
 * Why the fresh plan is not the saved one, one line per function ("" when they are equal).
 * LIVE's RevisionId and routing are named; any other difference is "its plan changed".
 */
export function planDifferences(saved: unknown, fresh: Plan): string[] {
  const canonical = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
  const savedPlan = canonical(saved);
  const freshPlan = canonical(fresh);
  const entries = (plan: unknown) =>
    new Map(
      (isRecord(plan) && Array.isArray(plan.entries) ? plan.entries : [])
        .filter(isRecord)
        .map((e) => [String(e.name), e] as const),
    );
  const before = entries(savedPlan);
  const now = entries(freshPlan);
  const differences: string[] = [];
  if (isRecord(savedPlan) && isRecord(freshPlan) && savedPlan.liveAlias !== freshPlan.liveAlias) {
    differences.push(`the alias differs: the plan is for ${String(savedPlan.liveAlias)}, this run for ${String(freshPlan.liveAlias)}`);
  }
  for (const name of [...new Set([...before.keys(), ...now.keys()])].sort()) {
    const a = before.get(name);
    const b = now.get(name);
    if (!a) differences.push(`${name}: not in the saved plan`);
    else if (!b) differences.push(`${name}: in the saved plan, not in this run`);
    else if (!sameJson(a, b)) differences.push(`${name}: ${entryDifference(a, b)}`);
  }
  return differences;
}

function entryDifference(a: Record<string, unknown>, b: Record<string, unknown>): string {
  const live = (e: Record<string, unknown>) => (isRecord(e.live) ? e.live : null);
  const la = live(a);
  const lb = live(b);
  const routing = (l: Record<string, unknown> | null) => (l && isRecord(l.routing) ? l.routing : null);
  const ra = routing(la);
  const rb = routing(lb);
  const text = (r: Record<string, unknown> | null) =>
    r === null ? "no LIVE alias" : `v${String(r.functionVersion)}${weightsText(r.weights)}`;
  if ((ra === null) !== (rb === null) || ra?.functionVersion !== rb?.functionVersion || !sameJson(ra?.weights, rb?.weights)) {
    return `LIVE changed since the plan: it routed ${text(ra)}, now ${text(rb)}`;
  }
  if (la?.revisionId !== lb?.revisionId) {
    return `LIVE changed since the plan (RevisionId ${String(la?.revisionId)} -> ${String(lb?.revisionId)})`;
  }
  return "its plan changed since it was saved (a version, its code or the function changed): plan again";
}

function weightsText(weights: unknown): string {
  if (!isRecord(weights)) return "";
  return Object.entries(weights)
    .map(([v, w]) => ` + ${Math.round(Number(w) * 10000) / 100}% v${v}`)
    .join("");
}

function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** JSON with object keys sorted, so key order never makes two equal values differ. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nullableString(value: unknown): boolean {
  return value === null || typeof value === "string";
}
