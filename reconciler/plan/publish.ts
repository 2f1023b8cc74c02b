/**
 * The publish planner: a pure function from (what to publish, the package's hash, what the
 * function looks like now) to a decision per function.
 *
 * Vocabulary:
 * - `unchanged`: the version alias (`1.4.2` -> `1-4-2`) already points at a published version with
 *   this code (and the configuration asked for): semantic versions are immutable, nothing to do.
 * - `refused`: nothing may be written; `code` says why in one word, `reason` in words. Above all
 *   `code-differs`: the version alias exists with other code, so the version must be bumped.
 * - `publish`: an ordered list of steps. Configuration (runtime, handler, layers) goes BEFORE the
 *   code: the published version snapshots both, and promotions carry them onward. Each change to
 *   $LATEST is followed by a `wait`. A step that is already done is left out, which is what makes
 *   a re-run after a crash finish the job: code already on $LATEST is not uploaded again, and
 *   PublishVersion of an unchanged $LATEST returns the version published before the crash instead
 *   of a new one (API reference: "Lambda doesn't publish a version if the function's configuration
 *   and code haven't changed since the last version").
 *
 * Guards: the first write is guarded by the RevisionId observed here (`revisionId`); every later
 * write by the RevisionId its predecessor left; PublishVersion also by the package's CodeSha256.
 */
import { type AliasState, type FunctionState, isPublishedVersion } from "../observe/state.ts";
import type { Architecture, PublishSpec } from "../input/publish-request.ts";
import { MAX_DESCRIPTION_LENGTH } from "../input/publish-request.ts";
import { versionToAlias } from "../input/versions.ts";

/** The package as resolved and hashed on this side, before any write. */
export interface ResolvedCode {
  /** SHA-256 of the zip, base64, as Lambda reports CodeSha256. */
  codeSha256: string;
  codeSize: number;
}

import type { PublishObservation } from "../observe/publish.ts";

export type { PublishObservation };

export type PublishStep =
  | { kind: "configure"; runtime?: string; handler?: string; layers?: string[] }
  | { kind: "update-code"; codeSha256: string; architectures: string[] }
  | { kind: "wait" }
  | { kind: "publish"; codeSha256: string; description: string }
  | { kind: "create-alias"; alias: string };

export type RefuseCode =
  | "function-missing"
  | "observe-failed"
  | "image-package"
  | "alias-not-published"
  | "code-differs"
  | "config-differs";

export type PublishDecision =
  | { kind: "unchanged"; functionVersion: string }
  | { kind: "refused"; code: RefuseCode; reason: string }
  | { kind: "publish"; revisionId: string; steps: PublishStep[] };

export interface PublishPlanEntry {
  function: string;
  version: string;
  alias: string;
  codeSha256: string;
  decision: PublishDecision;
}

/** "lambda-gitops 1.4.2: <provenance>", cut to Lambda's 256 characters. */
export function versionDescription(version: string, provenance: string | undefined): string {
  const text = provenance ? `lambda-gitops ${version}: ${provenance}` : `lambda-gitops ${version}`;
  return text.slice(0, MAX_DESCRIPTION_LENGTH);
}

const refused = (code: RefuseCode, reason: string): PublishDecision => ({ kind: "refused", code, reason });

/** The requested configuration fields whose value differs from `state` (only the ones asked for). */
export function configDifferences(spec: PublishSpec, state: FunctionState): string[] {
  const differs: string[] = [];
  if (spec.runtime !== undefined && spec.runtime !== state.runtime) differs.push("runtime");
  if (spec.handler !== undefined && spec.handler !== state.handler) differs.push("handler");
  if (spec.architecture !== undefined && !sameArchitecture(spec.architecture, state.architectures))
    differs.push("architecture");
  if (spec.layers !== undefined && spec.layers.join() !== (state.layers ?? []).join()) differs.push("layers");
  return differs;
}

function sameArchitecture(wanted: Architecture, architectures: readonly string[]): boolean {
  return architectures.length === 1 && architectures[0] === wanted;
}

/** Decide what publishing `spec` (whose package hashes to `code`) means for this function. Pure. */
export function planPublish(
  spec: PublishSpec,
  code: ResolvedCode,
  observation: PublishObservation,
): PublishPlanEntry {
  const alias = versionToAlias(spec.version);
  const entry = (decision: PublishDecision): PublishPlanEntry => ({
    function: spec.function,
    version: spec.version,
    alias,
    codeSha256: code.codeSha256,
    decision,
  });
  if (observation.kind === "missing-function") {
    return entry(
      refused(
        "function-missing",
        `function "${spec.function}" does not exist in this account: publish updates an existing function, create it first (e.g. with your infrastructure templates)`,
      ),
    );
  }
  if (observation.kind === "failed") return entry(refused("observe-failed", observation.message));
  const { latest, versionAlias, aliased } = observation;
  if (latest.packageType === "Image") {
    return entry(
      refused("image-package", `"${spec.function}" is an image-packaged function: publish handles .zip packages only`),
    );
  }
  if (versionAlias) return entry(existingVersion(spec, code, alias, versionAlias, aliased));

  const steps: PublishStep[] = [];
  const configure: Extract<PublishStep, { kind: "configure" }> = { kind: "configure" };
  const differs = configDifferences(spec, latest);
  if (differs.includes("runtime")) configure.runtime = spec.runtime;
  if (differs.includes("handler")) configure.handler = spec.handler;
  if (differs.includes("layers")) configure.layers = [...(spec.layers ?? [])];
  if (Object.keys(configure).length > 1) steps.push(configure, { kind: "wait" });
  // The architecture is part of the code update (UpdateFunctionCode carries Architectures).
  if (latest.codeSha256 !== code.codeSha256 || differs.includes("architecture")) {
    const architectures = spec.architecture ? [spec.architecture] : [...latest.architectures];
    steps.push({ kind: "update-code", codeSha256: code.codeSha256, architectures }, { kind: "wait" });
  }
  steps.push(
    {
      kind: "publish",
      codeSha256: code.codeSha256,
      description: versionDescription(spec.version, spec.description),
    },
    { kind: "create-alias", alias },
  );
  return entry({ kind: "publish", revisionId: latest.revisionId, steps });
}

function existingVersion(
  spec: PublishSpec,
  code: ResolvedCode,
  alias: string,
  versionAlias: AliasState,
  aliased: FunctionState | undefined,
): PublishDecision {
  if (!isPublishedVersion(versionAlias.functionVersion) || Object.keys(versionAlias.weights).length > 0) {
    return refused(
      "alias-not-published",
      `version alias "${alias}" exists but does not point at one published version (it points at ${versionAlias.functionVersion}); versions must be immutable: fix or delete the alias`,
    );
  }
  if (!aliased) {
    return refused(
      "observe-failed",
      `version ${versionAlias.functionVersion} behind the version alias "${alias}" could not be read`,
    );
  }
  if (aliased.codeSha256 !== code.codeSha256) {
    return refused(
      "code-differs",
      `version ${spec.version} is already published (alias "${alias}" -> version ${versionAlias.functionVersion}) with different code: ` +
        `it has CodeSha256 ${aliased.codeSha256}, this package has ${code.codeSha256}. ` +
        "Semantic versions are immutable: bump the version (e.g. the patch number) and publish again",
    );
  }
  const differs = configDifferences(spec, aliased);
  if (differs.length > 0) {
    return refused(
      "config-differs",
      `version ${spec.version} is already published (alias "${alias}" -> version ${versionAlias.functionVersion}) with this code but a different ${differs.join(", ")}; ` +
        "semantic versions are immutable: bump the version to change its configuration",
    );
  }
  return { kind: "unchanged", functionVersion: versionAlias.functionVersion };
}
