/**
 * The block checks: why a function cannot be reconciled, in one word (`BlockCode`) and in words.
 * Each check is a pure function of what was observed; the planner (./plan.ts) runs them in order
 * and the first problem blocks the function.
 */
import type { VersionSighting } from "../observe/observe.ts";
import { type CodeSigning, type FunctionState, isPublishedVersion } from "../observe/state.ts";
import { versionToAlias } from "../input/versions.ts";
import type { RolloutBlock } from "./rollout.ts";

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
  /** A member of the function's release set is blocked (plan/groups.ts). */
  | "group-blocked"
  /** The release set has several members to change, which apply does not move together yet. */
  | "group-apply"
  | RolloutBlock;

export interface Blocked {
  kind: "blocked";
  code: BlockCode;
  reason: string;
}

/** One declared semantic version and where it was seen. */
export interface DeclaredSighting {
  version: string;
  sighting: VersionSighting;
}

export function blocked(code: BlockCode, reason: string): Blocked {
  return { kind: "blocked", code, reason };
}

export function sightingProblem(
  name: string,
  version: string,
  sighting: VersionSighting,
): Blocked | undefined {
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
export function layersProblem(
  name: string,
  latest: FunctionState | undefined,
  sightings: readonly DeclaredSighting[],
): Blocked | undefined {
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
export function codeSigningProblem(
  name: string,
  codeSigning: CodeSigning | undefined,
  sightings: readonly DeclaredSighting[],
): Blocked | undefined {
  if (codeSigning?.untrustedArtifactOnDeployment !== "Enforce") return undefined;
  if (!sightings.some((s) => s.sighting.where === "source")) return undefined;
  return blocked(
    "code-signing",
    `"${name}" has code-signing configuration ${codeSigning.configArn} with policy Enforce: Lambda refuses code not signed by its allowed publishers, and lambda-gitops copies the source's .zip as it is; promote signed code through the signing pipeline, or set the policy to Warn`,
  );
}

export function packageProblem(
  name: string,
  latest: FunctionState | undefined,
  sightings: readonly DeclaredSighting[],
): Blocked | undefined {
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
export function canaryCompatibility(
  sightings: readonly DeclaredSighting[],
  latest: FunctionState | undefined,
): Blocked | undefined {
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
