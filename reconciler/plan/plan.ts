/**
 * The planner: a pure function from (validated definition, observed state) to a plan.
 *
 * Action vocabulary, per function:
 * - `noop`: LIVE already routes exactly as declared (primary version and canary weights).
 * - `rollback` / `rollforward`: every declared version already has its version alias here
 *   (versions are immutable), so only LIVE moves; `rollback` when the declared primary version is
 *   older than the one LIVE serves now, `rollforward` otherwise (also when LIVE is missing, points
 *   at $LATEST or at a version with no version alias).
 * - `promote`: at least one declared version is missing here and exists in the source account:
 *   its code is copied, published and aliased here, then LIVE moves.
 * - `blocked`: the function cannot be reconciled; `code` says why in one word, `reason` in words.
 *
 * Entries come out sorted by function name, so two plans of the same inputs are identical.
 */
import type { AliasState, FunctionState } from "../aws/lambda.ts";
import type { Definition, FunctionSpec } from "../input/definitions.ts";
import type { Observation, VersionSighting } from "../observe/observe.ts";
import { aliasToVersion, compareVersions, versionToAlias } from "../input/versions.ts";

/** A routing as Lambda stores it on an alias: primary version plus additional weights (0..1). */
export interface Routing {
  functionVersion: string;
  weights: Record<string, number>;
}

export interface Promotion {
  version: string;
  alias: string;
  sourceAccount: string;
  sourceFunctionVersion: string;
  codeSha256: string;
  codeSize: number;
  runtime: string | undefined;
  handler: string | undefined;
  architectures: string[];
}

export type BlockCode =
  | "function-missing"
  | "observe-failed"
  | "version-missing"
  | "no-source"
  | "source-unreadable"
  | "image-package"
  | "unpublished-alias"
  | "canary-incompatible";

export type PlannedAction =
  | { kind: "noop"; routing: Routing }
  | { kind: "rollback" | "rollforward"; routing: Routing }
  | {
      kind: "promote";
      promotions: Promotion[];
      /** Versions already present here (semver -> function version), e.g. a canary's primary. */
      present: Record<string, string>;
      /** Target $LATEST as observed: the RevisionId guards the first code update. */
      latest: Pick<FunctionState, "revisionId" | "codeSha256" | "runtime" | "handler" | "architectures">;
    }
  | { kind: "blocked"; code: BlockCode; reason: string };

export type ActionKind = PlannedAction["kind"];
export const ACTION_KINDS: readonly ActionKind[] = ["noop", "rollback", "rollforward", "promote", "blocked"];

export interface LiveState {
  /** The LIVE alias exists. */
  exists: boolean;
  functionVersion: string | null;
  /** The semantic version LIVE's primary version carries (read back from version aliases). */
  version: string | null;
  weights: Record<string, number>;
  revisionId: string | null;
}

export interface Desired {
  version: string;
  canary?: { version: string; weight: number };
}

export interface PlanEntry {
  name: string;
  desired: Desired;
  live: LiveState;
  action: PlannedAction;
}

export interface Plan {
  liveAlias: string;
  entries: PlanEntry[];
}

/** Plan every function of the definition. Pure. */
export function buildPlan(
  definition: Definition,
  observations: ReadonlyMap<string, Observation>,
  liveAlias: string,
): Plan {
  const entries = definition.functions.map((spec) =>
    planFunction(spec, observations.get(spec.name) ?? { kind: "failed", message: "not observed" }),
  );
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { liveAlias, entries };
}

const NO_LIVE: LiveState = {
  exists: false,
  functionVersion: null,
  version: null,
  weights: {},
  revisionId: null,
};

export function planFunction(spec: FunctionSpec, observation: Observation): PlanEntry {
  const desired: Desired = spec.canary
    ? { version: spec.version, canary: { ...spec.canary } }
    : { version: spec.version };
  const entry = (live: LiveState, action: PlannedAction): PlanEntry => ({
    name: spec.name,
    desired,
    live,
    action,
  });
  if (observation.kind === "missing-function") {
    return entry(
      NO_LIVE,
      blocked("function-missing", `function "${spec.name}" does not exist in the target account`),
    );
  }
  if (observation.kind === "failed") return entry(NO_LIVE, blocked("observe-failed", observation.message));

  const live = liveState(observation.live, observation.aliases);
  const sightings = declaredSightings(spec, observation.versions);
  const problem = sightings
    .map(({ version, sighting }) => sightingProblem(spec.name, version, sighting))
    .find(Boolean);
  if (problem) return entry(live, problem);

  const imageProblem = packageProblem(spec.name, observation.latest, sightings);
  if (imageProblem) return entry(live, imageProblem);

  if (spec.canary) {
    const canaryProblem = canaryCompatibility(sightings, observation.latest);
    if (canaryProblem) return entry(live, canaryProblem);
  }

  const promotions = sightings.flatMap(({ version, sighting }) =>
    sighting.where === "source" ? [promotionOf(version, sighting)] : [],
  );
  if (promotions.length > 0) {
    const latest = observation.latest;
    if (!latest) return entry(live, blocked("observe-failed", "the target function's $LATEST was not read"));
    const present: Record<string, string> = {};
    for (const { version, sighting } of sightings) {
      if (sighting.where === "target") present[version] = sighting.alias.functionVersion;
    }
    const { revisionId, codeSha256, runtime, handler, architectures } = latest;
    return entry(live, {
      kind: "promote",
      promotions,
      present,
      latest: { revisionId, codeSha256, runtime, handler, architectures },
    });
  }

  const resolve = (version: string) => {
    const found = sightings.find((s) => s.version === version)?.sighting;
    return found?.where === "target" ? found.alias.functionVersion : "";
  };
  const routing = desiredRouting(desired, resolve);
  if (
    live.exists &&
    sameRouting(routing, { functionVersion: live.functionVersion ?? "", weights: live.weights })
  ) {
    return entry(live, { kind: "noop", routing });
  }
  const direction =
    live.version !== null && compareVersions(spec.version, live.version) < 0 ? "rollback" : "rollforward";
  return entry(live, { kind: direction, routing });
}

/** The routing LIVE should have, given a way to resolve each declared semver to a version number. */
export function desiredRouting(desired: Desired, resolve: (version: string) => string): Routing {
  const weights: Record<string, number> = {};
  if (desired.canary) weights[resolve(desired.canary.version)] = toLambdaWeight(desired.canary.weight);
  return { functionVersion: resolve(desired.version), weights };
}

/** A percentage with at most two decimals, as the fraction Lambda stores (10 -> 0.1). */
export function toLambdaWeight(percent: number): number {
  return Math.round(percent * 100) / 10000;
}

/** Compare two routings as Lambda stores them: weights to 1/10000, zero weights ignored. */
export function sameRouting(a: Routing, b: Routing): boolean {
  if (a.functionVersion !== b.functionVersion) return false;
  const norm = (w: Record<string, number>) =>
    Object.entries(w)
      .map(([v, x]) => [v, Math.round(x * 10000)] as const)
      .filter(([, x]) => x !== 0)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([v, x]) => `${v}=${x}`)
      .join(",");
  return norm(a.weights) === norm(b.weights);
}

function liveState(live: AliasState | undefined, aliases: readonly AliasState[]): LiveState {
  if (!live) return NO_LIVE;
  return {
    exists: true,
    functionVersion: live.functionVersion,
    version: semverOf(live.functionVersion, aliases),
    weights: { ...live.weights },
    revisionId: live.revisionId,
  };
}

/** The highest semantic version whose version alias points at `functionVersion`, if any. */
export function semverOf(functionVersion: string, aliases: readonly AliasState[]): string | null {
  let best: string | null = null;
  for (const alias of aliases) {
    if (alias.functionVersion !== functionVersion || Object.keys(alias.weights).length > 0) continue;
    const version = aliasToVersion(alias.name);
    if (version !== undefined && (best === null || compareVersions(version, best) > 0)) best = version;
  }
  return best;
}

interface DeclaredSighting {
  version: string;
  sighting: VersionSighting;
}

function declaredSightings(
  spec: FunctionSpec,
  versions: Record<string, VersionSighting>,
): DeclaredSighting[] {
  const declared = spec.canary ? [spec.version, spec.canary.version] : [spec.version];
  return declared.map((version) => ({
    version,
    sighting: versions[version] ?? { where: "unreadable", message: "not observed" },
  }));
}

function sightingProblem(
  name: string,
  version: string,
  sighting: VersionSighting,
): PlannedAction | undefined {
  const alias = versionToAlias(version);
  switch (sighting.where) {
    case "target":
      return /^[0-9]+$/.test(sighting.alias.functionVersion) &&
        Object.keys(sighting.alias.weights).length === 0
        ? undefined
        : blocked(
            "unpublished-alias",
            `version alias "${alias}" in the target account does not point at one published version (it points at ${sighting.alias.functionVersion}); versions must be immutable`,
          );
    case "source":
      return /^[0-9]+$/.test(sighting.source.functionVersion)
        ? undefined
        : blocked(
            "unpublished-alias",
            `version alias "${alias}" in the source account ${sighting.sourceAccount} points at ${sighting.source.functionVersion}, not a published version`,
          );
    case "nowhere":
      return sighting.sourceChecked
        ? blocked(
            "version-missing",
            `version ${version} (alias "${alias}") exists neither here nor in the source account`,
          )
        : blocked(
            "no-source",
            `version ${version} (alias "${alias}") is missing here and no source account is configured (sourceRoleArn) to promote it from`,
          );
    case "unreadable":
      return blocked(
        "source-unreadable",
        `could not read version ${version} of "${name}" in the source account: ${sighting.message}`,
      );
  }
}

function packageProblem(
  name: string,
  latest: FunctionState | undefined,
  sightings: readonly DeclaredSighting[],
): PlannedAction | undefined {
  const promoting = sightings.filter((s) => s.sighting.where === "source");
  if (promoting.length === 0) return undefined;
  if (latest?.packageType === "Image") {
    return blocked(
      "image-package",
      `"${name}" is an image-packaged function here: only .zip functions can be promoted by copying code`,
    );
  }
  const image = promoting.find(
    (s) => s.sighting.where === "source" && s.sighting.source.packageType === "Image",
  );
  return image
    ? blocked(
        "image-package",
        `version ${image.version} is image-packaged in the source account: only .zip functions can be promoted by copying code`,
      )
    : undefined;
}

/**
 * Lambda requires both versions of a weighted alias to share the execution role and the
 * dead-letter configuration. Promoted versions get the target's own role and DLQ ($LATEST's).
 */
function canaryCompatibility(
  sightings: readonly DeclaredSighting[],
  latest: FunctionState | undefined,
): PlannedAction | undefined {
  const configs = sightings.map(({ version, sighting }) => ({
    version,
    config: sighting.where === "target" ? sighting.config : latest,
  }));
  const [first, second] = configs;
  if (!first?.config || !second?.config) {
    return blocked("observe-failed", "could not read the configuration of both canary versions");
  }
  if (first.config.role !== second.config.role) {
    return blocked(
      "canary-incompatible",
      `versions ${first.version} and ${second.version} use different execution roles; Lambda requires one role for a weighted alias`,
    );
  }
  if ((first.config.deadLetterTargetArn ?? "") !== (second.config.deadLetterTargetArn ?? "")) {
    return blocked(
      "canary-incompatible",
      `versions ${first.version} and ${second.version} have different dead-letter configurations; Lambda requires the same for a weighted alias`,
    );
  }
  return undefined;
}

function promotionOf(version: string, sighting: Extract<VersionSighting, { where: "source" }>): Promotion {
  const { source } = sighting;
  return {
    version,
    alias: versionToAlias(version),
    sourceAccount: sighting.sourceAccount,
    sourceFunctionVersion: source.functionVersion,
    codeSha256: source.codeSha256,
    codeSize: source.codeSize,
    runtime: source.runtime,
    handler: source.handler,
    architectures: source.architectures,
  };
}

function blocked(code: BlockCode, reason: string): PlannedAction {
  return { kind: "blocked", code, reason };
}

/** Counts per action kind, every kind present (zero when unused). */
export function summarise(plan: Plan): Record<ActionKind, number> {
  const counts = Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Record<ActionKind, number>;
  for (const e of plan.entries) counts[e.action.kind] += 1;
  return counts;
}

/** True when applying the plan would change something. */
export function hasChanges(plan: Plan): boolean {
  return plan.entries.some((e) => e.action.kind !== "noop" && e.action.kind !== "blocked");
}
