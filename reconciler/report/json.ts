/**
 * The `--format json` contract of every command (validate, plan, apply, status, prune, publish):
 * one envelope, versioned, the same everywhere:
 *
 *   { "schemaVersion": 1, "command": "plan", "target": {account, region, roleArn},
 *     "source": {account, region, roleArn} | null, ...the command's own keys..., "summary": {...} }
 *
 * Routing is structured (`{ functionVersion, version, weights: { "5": { version, weight } } }`),
 * never a display string. The zod schemas here are the contract's one home: the TypeScript types
 * are inferred from them and `npm run schema` writes them as JSON Schema files (schemas/), which
 * the tests validate real outputs of the built CLI against. Bump SCHEMA_VERSION when a key is
 * removed or changes meaning; adding a key is compatible. Pure.
 */
import { z } from "zod";
import type { ApplyReport, FunctionResult } from "../apply/apply.ts";
import type { PruneReport } from "../apply/prune.ts";
import type { PublishResult } from "../apply/publish.ts";
import type { Plan } from "../plan/plan.ts";
import type { PrunePlan } from "../plan/prune.ts";
import type { PublishPlanEntry } from "../plan/publish.ts";
import type { AliasRouting } from "../plan/routing.ts";
import { refOf, routingOfAlias } from "../plan/routing.ts";
import { prunePlanToJson, pruneReportToJson } from "./prune.ts";
import { publishToJson } from "./publish.ts";
import { applyToJson } from "./apply-report.ts";
import { knownVersions, planToJson } from "./report.ts";
import { functionStatus, SYNC_STATES } from "./status.ts";

export const SCHEMA_VERSION = 1;

const place = z
  .object({
    account: z.string().nullable().describe("AWS account id (null where it was not determined)"),
    region: z.string().nullable(),
    roleArn: z.string().nullable().describe("the identity acting there: the caller in the target, the assumed role in the source"),
  })
  .describe("where a run reads or writes");

export type PlaceJson = z.infer<typeof place>;

export const namedRoutingSchema = z
  .object({
    functionVersion: z.string().describe('the version the alias routes its primary traffic to ("4")'),
    version: z.string().nullable().describe('its semantic version ("1.4.0"), when known'),
    weights: z
      .record(z.string(), z.object({ version: z.string().nullable(), weight: z.number().min(0).max(1) }))
      .describe("additional versions by function version, with their share of traffic (0..1)"),
  })
  .describe("an alias's routing, with the semantic version of each function version where known");

export type NamedRoutingJson = z.infer<typeof namedRoutingSchema>;

/** What every document starts with. */
const envelope = <C extends string>(command: C) => ({
  schemaVersion: z.literal(SCHEMA_VERSION),
  command: z.literal(command),
  target: place.nullable().describe("null only where the command made no AWS call (validate)"),
  source: place.nullable().describe("null without a source role"),
});

const counts = z.record(z.string(), z.number().int().min(0));
/** Each function's record: its name always; the rest per command (additional keys are allowed). */
const functionRecord = (shape: z.ZodRawShape) => z.looseObject({ name: z.string(), ...shape });

const problem = z.object({ file: z.string(), line: z.number(), column: z.number(), path: z.string(), message: z.string() });

export const JSON_SCHEMAS = {
  validate: z.looseObject({
    ...envelope("validate"),
    file: z.string().nullable(),
    valid: z.boolean(),
    functions: z.array(z.string()),
    problems: z.array(problem),
    summary: z.object({ functions: z.number().int(), problems: z.number().int() }),
  }),
  plan: z.looseObject({
    ...envelope("plan"),
    liveAlias: z.string(),
    functions: z.array(functionRecord({ action: z.string(), desiredVersion: z.string() })),
    warnings: z.array(z.string()),
    summary: counts.describe("functions per action"),
  }),
  apply: z.looseObject({
    ...envelope("apply"),
    liveAlias: z.string(),
    functions: z.array(
      functionRecord({
        action: z.string(),
        status: z.enum(["unchanged", "applied", "failed", "skipped", "blocked"]),
        liveBefore: namedRoutingSchema.nullable(),
        liveAfter: namedRoutingSchema.nullable(),
      }),
    ),
    interrupted: z.boolean(),
    summary: counts.describe("functions per status"),
  }),
  status: z.looseObject({
    ...envelope("status"),
    liveAlias: z.string(),
    functions: z.array(
      functionRecord({
        state: z.enum(["in-sync", "drift", "pending", "blocked"]),
        live: namedRoutingSchema.nullable().describe("null when the alias does not exist"),
        desired: z.object({ version: z.string(), canary: z.object({ version: z.string(), weight: z.number() }).nullable() }),
        detail: z.string(),
        changedOutside: z.boolean(),
      }),
    ),
    summary: z.object({
      "in-sync": z.number().int(),
      drift: z.number().int(),
      pending: z.number().int(),
      blocked: z.number().int(),
      changedOutside: z.number().int(),
    }),
  }),
  prune: z.looseObject({
    ...envelope("prune"),
    deleted: z.boolean().describe("false: the listing (nothing changed); true: the report of --delete"),
    functions: z.array(functionRecord({})),
    summary: counts,
  }),
  publish: z.looseObject({
    ...envelope("publish"),
    dryRun: z.boolean(),
    functions: z.array(z.looseObject({ function: z.string(), version: z.string() })),
    summary: counts.describe("functions per action (dry run: per decision)"),
  }),
} as const;

export type JsonCommand = keyof typeof JSON_SCHEMAS;

/** Where a run acted: the target (caller) and, with a source role, the source. */
export interface Where {
  target: PlaceJson | null;
  source: PlaceJson | null;
}

/** The envelope around a command's own keys. */
export function jsonDocument<T extends object>(command: JsonCommand, where: Where, body: T) {
  return { schemaVersion: SCHEMA_VERSION, command, target: where.target, source: where.source, ...body };
}

/** An alias routing with the semantic versions known (`known`: function version -> version). */
export function namedRouting(routing: AliasRouting, known: ReadonlyMap<string, string>): NamedRoutingJson {
  const canonical = routingOfAlias(routing);
  const weights: NamedRoutingJson["weights"] = {};
  for (const w of canonical.additional) {
    const ref = refOf(w.target);
    weights[ref] = { version: known.get(ref) ?? null, weight: w.weight };
  }
  return { functionVersion: routing.functionVersion, version: known.get(routing.functionVersion) ?? null, weights };
}

/** Counts of `keys` (every key present, zero included) over `values`. */
export function countBy<K extends string>(keys: readonly K[], values: readonly K[]): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const v of values) out[v] += 1;
  return out;
}

/** The JSON Schema (draft 2020-12) of a command's document, as written to schemas/<command>.schema.json. */
export function jsonSchemaText(command: JsonCommand): string {
  const schema = z.toJSONSchema(JSON_SCHEMAS[command], { target: "draft-2020-12" });
  return `${JSON.stringify(
    {
      ...schema,
      $id: `https://lambda-gitops.dev/schemas/${command}.schema.json`,
      title: `lambda-gitops ${command} --format json`,
    },
    null,
    2,
  )}\n`;
}

// ---- Each command's document ----------------------------------------------------------------

/** A function's key names its account by id (the plan's "target" label is resolved from `where`). */
function keyWithAccountId<T extends { key: { account: string } }>(record: T, where: Where): T {
  const id = record.key.account === "target" ? where.target?.account : undefined;
  return id ? { ...record, key: { ...record.key, account: id } } : record;
}

/** plan: the plan's record of each function (account ids, not labels), warnings, counts per action. */
export function planJson(plan: Plan, where: Where, warnings: readonly string[]) {
  const base = planToJson(plan);
  return jsonDocument("plan", where, {
    ...base,
    functions: base.functions.map((f) => keyWithAccountId(f, where)),
    warnings: [...warnings],
  });
}

/** status: per function its state, LIVE as structured routing, what the file declares. */
export function statusJson(plan: Plan, where: Where) {
  const functions = plan.entries.map((entry) => {
    const s = functionStatus(entry);
    const { live, declared } = entry;
    return {
      name: s.name,
      state: s.state,
      live: live ? namedRouting(live.routing, knownVersions(entry)) : null,
      desired: { version: declared.version, canary: declared.canary ? { ...declared.canary } : null },
      detail: s.detail,
      rollout: s.rollout,
      changedOutside: s.changedOutside,
    };
  });
  const summary = {
    ...countBy(SYNC_STATES, functions.map((f) => f.state)),
    changedOutside: functions.filter((f) => f.changedOutside).length,
  };
  return jsonDocument("status", where, { liveAlias: plan.liveAlias, functions, summary });
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

/** prune: the listing (nothing changed) or, with --delete, what was deleted and kept. */
export function pruneJson(result: { plan: PrunePlan } | { report: PruneReport }, where: Where) {
  if ("plan" in result) return jsonDocument("prune", where, { deleted: false, ...prunePlanToJson(result.plan) });
  const statuses = result.report.results.map((r) => r.status);
  return jsonDocument("prune", where, {
    deleted: true,
    ...pruneReportToJson(result.report),
    summary: countBy(["pruned", "unchanged", "skipped", "failed"] as const, statuses),
  });
}

/** publish: one record per function (a single --function too), and counts per action. */
export function publishJson(results: readonly PublishResult[], where: Where) {
  const functions = publishToJson(results);
  return jsonDocument("publish", where, {
    dryRun: false,
    functions,
    summary: countBy(["published", "unchanged", "refused", "failed"] as const, results.map((r) => r.action)),
  });
}

/** publish --dry-run: the plan of each function, and counts per decision. */
export function publishPlanJson(plans: readonly PublishPlanEntry[], where: Where) {
  return jsonDocument("publish", where, {
    dryRun: true,
    functions: plans,
    summary: countBy(
      [...new Set(plans.map((p) => p.decision.kind))],
      plans.map((p) => p.decision.kind),
    ),
  });
}
