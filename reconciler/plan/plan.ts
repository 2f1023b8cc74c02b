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
import type { Definition, FunctionSpec } from "../input/definitions.ts";
import { declaredVersions, type Observation, type VersionSighting } from "../observe/observe.ts";
import {
  type AliasState,
  compareKeys,
  type FunctionKey,
  type FunctionState,
  isPublishedVersion,
  TARGET_ACCOUNT,
  type CodeSigning,
} from "../observe/state.ts";
import { aliasToVersion, compareVersions, versionToAlias } from "../input/versions.ts";
import { decodeMarker, type Marker } from "./marker.ts";
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
import type { RolloutBlock } from "./rollout.ts";
import { type LiveStep, routeDescription, type RouteStep, type StageStep, type Step } from "./steps.ts";

export type { Routing } from "./routing.ts";
export { sameRouting, toLambdaWeight } from "./routing.ts";

export type BlockCode =
  | "function-missing"
  | "observe-failed"
  | "version-missing"
  | "no-source"
  | "source-unreadable"
  | "image-package"
  | "unpublished-alias"
  | "canary-incompatible"
  | "code-signing"
  | "layers"
  | "provisioned-concurrency"
  | RolloutBlock;

export type PlannedAction =
  /** `note`: why a LIVE that does not read exactly as declared is still left alone (see below). */
  | { kind: "noop"; routing: Routing; steps: []; note?: string }
  | { kind: "rollback" | "rollforward"; routing: Routing; steps: [LiveStep] }
  /** A new LIVE is written in one step: with no LIVE yet there is nothing to roll out from. */
  | { kind: "create"; routing: Routing; steps: [RouteStep] }
  | { kind: "promote"; routing: Routing; steps: [...StageStep[], LiveStep] }
  | { kind: "blocked"; code: BlockCode; reason: string };

export type ActionKind = PlannedAction["kind"];
export const ACTION_KINDS: readonly ActionKind[] = [
  "noop",
  "rollback",
  "rollforward",
  "create",
  "promote",
  "blocked",
];

export interface LiveState {
  /** The LIVE alias exists. */
  exists: boolean;
  functionVersion: string | null;
  /** The semantic version LIVE's primary version carries (read back from version aliases). */
  version: string | null;
  weights: Record<string, number>;
  revisionId: string | null;
  /** LIVE's description as read ("" when none or no LIVE). */
  description: string;
  /** The marker decoded from the description: what the reconciler last wrote (undefined: none). */
  marker: Marker | undefined;
}

export interface Desired {
  version: string;
  canary?: { version: string; weight: number };
}

export interface PlanEntry {
  /** What identifies the function in AWS: plan order, re-plan and output order use it. */
  key: FunctionKey;
  name: string;
  desired: Desired;
  live: LiveState;
  action: PlannedAction;
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
  return { liveAlias, entries };
}

const NO_LIVE: LiveState = {
  exists: false,
  functionVersion: null,
  version: null,
  weights: {},
  revisionId: null,
  description: "",
  marker: undefined,
};

/** LIVE's routing in canonical form, or null when LIVE does not exist. */
export function liveRouting(live: LiveState): Routing | null {
  if (!live.exists || live.functionVersion === null) return null;
  const primary = live.functionVersion;
  return routingOfAlias({ functionVersion: primary, weights: live.weights }, (fv) =>
    fv === primary ? live.version : null,
  );
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

/** What a function's entry in the file declares. */
export function desiredOf(spec: Pick<FunctionSpec, "version" | "canary">): Desired {
  return spec.canary ? { version: spec.version, canary: { ...spec.canary } } : { version: spec.version };
}

export function planFunction(
  spec: FunctionSpec,
  observation: Observation,
  liveAlias = "LIVE",
  scope: PlanScope = DEFAULT_SCOPE,
  context: RolloutContext = NO_ROLLOUT_CONTEXT,
): PlanEntry {
  const desired = desiredOf(spec);
  const entry = (live: LiveState, action: PlannedAction): PlanEntry => ({
    key: { account: scope.account, region: scope.region, name: spec.name },
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
  const routing = desiredRouting(desired, resolve);
  const from = liveRouting(live);
  const oneWrite = routeStep(liveAlias, desired, live, from, routing);
  let route: LiveStep = oneWrite;
  // A function with no LIVE yet gets it in one write (issue 13: nothing to roll out from), so a
  // declared rollout only plans where LIVE exists.
  if (spec.rollout && live.exists) {
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
  const direction = !live.exists
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
function transientShift(live: LiveState, routing: Routing): string | undefined {
  const marker = live.marker;
  const declared = toAliasRouting(routing);
  const from = marker?.fromFunctionVersion;
  if (!marker || !declared || from === undefined || live.functionVersion !== marker.functionVersion) return undefined;
  const written = routingOfAlias({ functionVersion: marker.functionVersion, weights: marker.weights });
  if (!sameRouting(written, routing) || from in declared.weights) return undefined;
  const extra = Object.keys(live.weights).filter((v) => !(v in declared.weights));
  if (extra.length !== 1 || extra[0] !== from) return undefined;
  const { [from]: transient, ...rest } = live.weights;
  const withoutTransient = routingOfAlias({ functionVersion: live.functionVersion, weights: rest });
  if (!sameRouting(withoutTransient, routing)) return undefined;
  return `LIVE carries a transient weight of ${transient} on v${from}, the version this tool moved it from: Lambda is still shifting an alias with provisioned concurrency; left to Lambda, not rewritten`;
}

function routeStep(
  alias: string,
  desired: Desired,
  live: LiveState,
  from: Routing | null,
  to: Routing,
): RouteStep {
  const declared = desired.canary ? { version: desired.version, canary: { ...desired.canary } } : { version: desired.version };
  const known = toAliasRouting(to);
  return {
    kind: "route",
    alias,
    from,
    to,
    revisionId: live.exists ? live.revisionId : null,
    declared,
    description: known ? routeDescription(declared, known, from ? primaryFunctionVersion(from) : null) : null,
  };
}

/** The routing LIVE should have, given how each declared semver resolves to a version. */
export function desiredRouting(desired: Desired, resolve: (version: string) => RoutedVersion): Routing {
  const primary = resolve(desired.version);
  const additional = desired.canary
    ? [{ target: resolve(desired.canary.version), weight: toLambdaWeight(desired.canary.weight) }]
    : [];
  return canonicalRouting({ primary, additional });
}

function liveState(live: AliasState | undefined, aliases: readonly AliasState[]): LiveState {
  if (!live) return NO_LIVE;
  return {
    exists: true,
    functionVersion: live.functionVersion,
    version: semverOf(live.functionVersion, aliases),
    weights: { ...live.weights },
    revisionId: live.revisionId,
    description: live.description,
    marker: decodeMarker(live.description),
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
  return declaredVersions(spec).map((version) => ({
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
      return isPublishedVersion(sighting.alias.functionVersion) &&
        Object.keys(sighting.alias.weights).length === 0
        ? undefined
        : blocked(
            "unpublished-alias",
            `version alias "${alias}" in the target account does not point at one published version (it points at ${sighting.alias.functionVersion}); versions must be immutable`,
          );
    case "source":
      return isPublishedVersion(sighting.source.functionVersion)
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

/**
 * Layers are part of what a version runs: a promoted version must run on the layers it was built
 * with. Carried when the target's $LATEST already has the same layer ARNs (in order); otherwise
 * blocked, naming the layer, rather than publishing new code on other layers silently.
 */
function layersProblem(
  name: string,
  latest: FunctionState | undefined,
  sightings: readonly DeclaredSighting[],
): PlannedAction | undefined {
  const here = latest?.layers ?? [];
  for (const { version, sighting } of sightings) {
    if (sighting.where !== "source") continue;
    const there = sighting.source.layers ?? [];
    if (there.join("\n") === here.join("\n")) continue;
    const missing = there.find((arn) => !here.includes(arn));
    const extra = here.find((arn) => !there.includes(arn));
    const which = missing
      ? `layer ${missing} of version ${version} in the source account is not on "${name}" here`
      : extra
        ? `"${name}" here runs layer ${extra}, which version ${version} in the source account does not`
        : `"${name}" here has the layers of version ${version} in another order`;
    return blocked(
      "layers",
      `${which}: lambda-gitops does not publish code on other layers; give the target the same layer versions (${there.join(", ") || "none"}) first`,
    );
  }
  return undefined;
}

/** Promoting code into a function whose code-signing policy is Enforce: blocked, saying why. */
function codeSigningProblem(
  name: string,
  codeSigning: CodeSigning | undefined,
  sightings: readonly DeclaredSighting[],
): PlannedAction | undefined {
  if (codeSigning?.untrustedArtifactOnDeployment !== "Enforce") return undefined;
  if (!sightings.some((s) => s.sighting.where === "source")) return undefined;
  return blocked(
    "code-signing",
    `"${name}" has code-signing configuration ${codeSigning.configArn} with policy Enforce: Lambda refuses code not signed by its allowed publishers, and lambda-gitops copies the source's .zip as it is; promote signed code through the signing pipeline, or set the policy to Warn`,
  );
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
  return plan.entries.some((e) => !takesNoStep(e.action));
}
