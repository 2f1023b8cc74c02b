/**
 * The planner: a pure function from (validated definition, observed state) to a plan.
 *
 * Action vocabulary, per function (each action carries the steps apply takes, see steps.ts, and
 * the routing LIVE ends with, see routing.ts):
 * - `noop`: LIVE already routes exactly as declared (primary version and canary weights); no step.
 *   The marker in LIVE's description is not compared: a right routing is noop. Also noop, with a
 *   `note`: LIVE as the marker says we wrote it (= as declared) plus one transient weight on the
 *   version the marker says that write moved LIVE from (provisioned concurrency shifting; see
 *   transientShift).
 * - `rollback` / `rollforward`: every declared version already has its version alias here
 *   (versions are immutable), so only LIVE moves (one route step); `rollback` when the declared
 *   primary version is older than the one LIVE serves now, `rollforward` otherwise (also when LIVE
 *   points at $LATEST or at a version with no version alias).
 * - `create`: like a repoint, but LIVE does not exist yet and this creates it: its own action, so
 *   that a plan creating LIVE everywhere (a mistyped alias name) never looks routine.
 * - `promote`: at least one declared version is missing here and exists in the source account:
 *   one stage step per missing version, then one route step to the versions they produce.
 * - `blocked`: the function cannot be reconciled; `code` says why in one word, `reason` in words.
 *
 * Entries come out sorted by function key (account, Region, name), so two plans of the same inputs
 * are identical.
 */
import { type Declared, declaredOf, type Definition, type FunctionSpec } from "../input/definitions.ts";
import { declaredVersions, type Observation, type VersionSighting } from "../observe/observe.ts";
import type { Live } from "../observe/live.ts";
import { markerDescription, markerOf } from "../observe/marker.ts";
import { compareKeys, type FunctionKey, type FunctionState, TARGET_ACCOUNT } from "../observe/state.ts";
import { compareVersions, versionToAlias } from "../input/versions.ts";
import {
  type Blocked,
  blocked,
  canaryCompatibility,
  codeSigningProblem,
  type DeclaredSighting,
  layersProblem,
  packageProblem,
  sightingProblem,
} from "./blocks.ts";
import {
  canonicalRouting,
  primaryFunctionVersion,
  type RoutedVersion,
  type Routing,
  routingOfAlias,
  sameRouting,
  toAliasRouting,
  toLambdaWeight,
} from "./routing.ts";
import { NO_ROLLOUT_CONTEXT, planRollout, type RolloutContext } from "./rollout-plan.ts";
import type { LiveStep, RouteStep, StageStep, Step } from "./steps.ts";
import { applyGroupRules } from "./groups.ts";

export type { Routing } from "./routing.ts";
export { sameRouting, toLambdaWeight } from "./routing.ts";
export type { BlockCode } from "./blocks.ts";

export type PlannedAction =
  /** `note`: why a LIVE that does not read exactly as declared is still left alone (see below). */
  | { kind: "noop"; routing: Routing; steps: []; note?: string }
  | { kind: "rollback" | "rollforward"; routing: Routing; steps: [LiveStep] }
  /** A new LIVE is written in one step: with no LIVE yet there is nothing to roll out from. */
  | { kind: "create"; routing: Routing; steps: [RouteStep] }
  | { kind: "promote"; routing: Routing; steps: [...StageStep[], LiveStep] }
  | Blocked;

export type ActionKind = PlannedAction["kind"];
export const ACTION_KINDS: readonly ActionKind[] = [
  "noop",
  "rollback",
  "rollforward",
  "create",
  "promote",
  "blocked",
];

export interface PlanEntry {
  /** What identifies the function in AWS: plan order, re-plan and output order use it. */
  key: FunctionKey;
  name: string;
  /** What the file declares for the function. */
  declared: Declared;
  /** LIVE as observed (null: no LIVE alias, or the function could not be observed). */
  live: Live | null;
  action: PlannedAction;
  /** The release set the function moves with (plan/groups.ts), if any. */
  group?: string;
}

export interface Plan {
  liveAlias: string;
  entries: PlanEntry[];
}

/** Where the functions of a plan live: the target account (or its placeholder) and Region. */
export interface PlanScope {
  account: string;
  region: string;
}

export const DEFAULT_SCOPE: PlanScope = { account: TARGET_ACCOUNT, region: "default" };

/** Plan every function of the definition. Pure. */
export function buildPlan(
  definition: Definition,
  observations: ReadonlyMap<string, Observation>,
  liveAlias: string,
  scope: PlanScope = DEFAULT_SCOPE,
  context: RolloutContext = NO_ROLLOUT_CONTEXT,
): Plan {
  const entries = definition.functions.map((spec) =>
    planFunction(
      spec,
      observations.get(spec.name) ?? { kind: "failed", message: "not observed" },
      liveAlias,
      scope,
      context,
    ),
  );
  entries.sort((a, b) => compareKeys(a.key, b.key));
  return { liveAlias, entries: applyGroupRules(entries) };
}

/** LIVE's routing in canonical form, its primary named by its semantic version; null without LIVE. */
export function liveRouting(live: Live | null): Routing | null {
  if (!live) return null;
  const primary = live.routing.functionVersion;
  return routingOfAlias(live.routing, (fv) => (fv === primary ? live.version : null));
}

/** True for the actions that take no step (nothing to start, nothing to skip). */
export function takesNoStep(action: PlannedAction): action is Extract<PlannedAction, { kind: "noop" | "blocked" }> {
  return action.kind === "noop" || action.kind === "blocked";
}

/** The steps of an entry (none for noop and blocked). */
export function stepsOf(entry: PlanEntry): readonly Step[] {
  return entry.action.kind === "blocked" ? [] : entry.action.steps;
}

/** The routing LIVE ends with, or null when blocked. */
export function finalRouting(entry: PlanEntry): Routing | null {
  return entry.action.kind === "blocked" ? null : entry.action.routing;
}

export function planFunction(
  spec: FunctionSpec,
  observation: Observation,
  liveAlias = "LIVE",
  scope: PlanScope = DEFAULT_SCOPE,
  context: RolloutContext = NO_ROLLOUT_CONTEXT,
): PlanEntry {
  const declared = declaredOf(spec);
  const entry = (live: Live | null, action: PlannedAction): PlanEntry => ({
    key: { account: scope.account, region: scope.region, name: spec.name },
    name: spec.name,
    declared,
    live,
    action,
    ...(spec.group !== undefined ? { group: spec.group } : {}),
  });
  if (observation.kind === "missing-function") {
    return entry(
      null,
      blocked("function-missing", `function "${spec.name}" does not exist in the target account`),
    );
  }
  if (observation.kind === "failed") return entry(null, blocked("observe-failed", observation.message));

  const live = observation.live;
  const sightings = declaredSightings(spec, observation.versions);
  const problem = sightings
    .map(({ version, sighting }) => sightingProblem(spec.name, version, sighting))
    .find(Boolean);
  if (problem) return entry(live, problem);

  const imageProblem = packageProblem(spec.name, observation.latest, sightings);
  if (imageProblem) return entry(live, imageProblem);
  const signingProblem = codeSigningProblem(spec.name, observation.codeSigning, sightings);
  if (signingProblem) return entry(live, signingProblem);
  const layerProblem = layersProblem(spec.name, observation.latest, sightings);
  if (layerProblem) return entry(live, layerProblem);

  if (spec.canary && observation.liveProvisionedConcurrency !== undefined) {
    // Lambda shifts an alias with provisioned concurrency on its own (transient weights), so a
    // declared canary split on it cannot be held or verified.
    return entry(
      live,
      blocked(
        "provisioned-concurrency",
        `LIVE of "${spec.name}" has provisioned concurrency (${observation.liveProvisionedConcurrency} requested): canaries are not supported on an alias with provisioned concurrency; remove the canary or the provisioned concurrency`,
      ),
    );
  }
  if (spec.canary) {
    const canaryProblem = canaryCompatibility(sightings, observation.latest);
    if (canaryProblem) return entry(live, canaryProblem);
  }

  const staged = sightings.filter(({ sighting }) => sighting.where === "source");
  const latest = observation.latest;
  if (staged.length > 0 && !latest) {
    return entry(live, blocked("observe-failed", "the target function's $LATEST was not read"));
  }
  const stages: StageStep[] = [];
  const resolve = (version: string): RoutedVersion => {
    const sighting = sightings.find((s) => s.version === version)?.sighting;
    if (sighting?.where === "target") return { version, functionVersion: sighting.alias.functionVersion };
    if (sighting?.where === "source" && latest) {
      let index = stages.findIndex((s) => s.version === version);
      if (index < 0) index = stages.push(stageStep(version, sighting, latest)) - 1;
      return { version, stage: index };
    }
    return { version, functionVersion: "" };
  };
  const routing = declaredRouting(declared, resolve);
  const from = liveRouting(live);
  const oneWrite = routeStep(liveAlias, declared, live, from, routing);
  let route: LiveStep = oneWrite;
  // A function with no LIVE yet gets it in one write (issue 13: nothing to roll out from), so a
  // declared rollout only plans where LIVE exists.
  if (spec.rollout && live) {
    const planned = planRollout(spec.rollout, route, live, context);
    if (planned.kind === "blocked") return entry(live, blocked(planned.code, planned.reason));
    if (planned.kind === "rollout") route = planned.step;
  }
  if (route.kind === "route" && stages.length === 0 && from && sameRouting(routing, from)) {
    return entry(live, { kind: "noop", routing, steps: [] });
  }
  // A rollout in progress is the rollout runner's to follow (it waits out Lambda's transient
  // weights itself); only a one-write change is left to Lambda while it shifts.
  const shifting = route.kind === "route" && stages.length === 0 ? transientShift(live, routing) : undefined;
  if (shifting) return entry(live, { kind: "noop", routing, steps: [], note: shifting });
  if (stages.length > 0) return entry(live, { kind: "promote", routing, steps: [...stages, route] });
  const direction = !live
    ? "create"
    : live.version !== null && compareVersions(spec.version, live.version) < 0
      ? "rollback"
      : "rollforward";
  if (direction === "create") return entry(live, { kind: "create", routing, steps: [oneWrite] });
  return entry(live, { kind: direction, routing, steps: [route] });
}

/**
 * Provisioned concurrency: while Lambda shifts an alias that has it, the alias reads with the new
 * primary and a transient weight on the version it served before. A later run must not "fix" that
 * weight (a write would restart the shift). The rule, safe because it needs the marker's word: LIVE
 * reads exactly as the marker says we wrote, which is exactly the declared routing, except one
 * extra weight, on the version the marker says that write moved LIVE from. Then the plan is `noop`
 * with a note, and no write. Anything else (another version, another weight changed, no marker, a
 * marker for another routing) is drift and is planned as usual.
 */
function transientShift(live: Live | null, routing: Routing): string | undefined {
  const marker = live?.marker;
  const declared = toAliasRouting(routing);
  const from = marker?.fromFunctionVersion;
  if (!live || !marker || !declared || from === undefined || live.routing.functionVersion !== marker.functionVersion) {
    return undefined;
  }
  if (!sameRouting(routingOfAlias(marker), routing) || from in declared.weights) return undefined;
  const { weights } = live.routing;
  const extra = Object.keys(weights).filter((v) => !(v in declared.weights));
  if (extra.length !== 1 || extra[0] !== from) return undefined;
  const { [from]: transient, ...rest } = weights;
  const withoutTransient = routingOfAlias({ functionVersion: live.routing.functionVersion, weights: rest });
  if (!sameRouting(withoutTransient, routing)) return undefined;
  return `LIVE carries a transient weight of ${transient} on v${from}, the version this tool moved it from: Lambda is still shifting an alias with provisioned concurrency; left to Lambda, not rewritten`;
}

function routeStep(alias: string, declared: Declared, live: Live | null, from: Routing | null, to: Routing): RouteStep {
  const known = toAliasRouting(to);
  const fromFunctionVersion = from ? primaryFunctionVersion(from) : null;
  return {
    kind: "route",
    alias,
    from,
    to,
    revisionId: live ? live.revisionId : null,
    declared: declaredOf(declared),
    description: known ? markerDescription(markerOf(declared, known, { fromFunctionVersion })) : null,
  };
}

/** The routing LIVE should have, given how each declared semver resolves to a version. */
export function declaredRouting(declared: Declared, resolve: (version: string) => RoutedVersion): Routing {
  const primary = resolve(declared.version);
  const additional = declared.canary
    ? [{ target: resolve(declared.canary.version), weight: toLambdaWeight(declared.canary.weight) }]
    : [];
  return canonicalRouting({ primary, additional });
}

function declaredSightings(
  spec: FunctionSpec,
  versions: Record<string, VersionSighting>,
): DeclaredSighting[] {
  return declaredVersions(spec).map((version) => ({
    version,
    sighting: versions[version] ?? { where: "unreadable", message: "not observed" },
  }));
}

function stageStep(
  version: string,
  sighting: Extract<VersionSighting, { where: "source" }>,
  latest: FunctionState,
): StageStep {
  const { source } = sighting;
  const { revisionId, codeSha256, runtime, handler, architectures, sourceKmsKeyArn } = latest;
  return {
    kind: "stage",
    version,
    alias: versionToAlias(version),
    source: {
      account: sighting.sourceAccount,
      functionVersion: source.functionVersion,
      codeSha256: source.codeSha256,
      codeSize: source.codeSize,
      runtime: source.runtime,
      handler: source.handler,
      architectures: source.architectures,
    },
    latest: {
      revisionId,
      codeSha256,
      runtime,
      handler,
      architectures: [...architectures],
      // The target's own code key, kept on the update (absent: Lambda's key).
      ...(sourceKmsKeyArn ? { sourceKmsKeyArn } : {}),
    },
  };
}

/** Counts per action kind, every kind present (zero when unused). */
export function summarise(plan: Plan): Record<ActionKind, number> {
  const counts = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  for (const e of plan.entries) counts[e.action.kind] += 1;
  return counts;
}

/** True when applying the plan would change something. */
export function hasChanges(plan: Plan): boolean {
  return plan.entries.some((e) => !takesNoStep(e.action));
}
