/** Small builders for unit tests: observed aliases and function states as the adapter returns them. */
import { findLive } from "../../reconciler/observe/live.ts";
import { encodeMarker } from "../../reconciler/observe/marker.ts";
import type { AliasState, FunctionState } from "../../reconciler/observe/state.ts";
import type { FunctionSpec } from "../../reconciler/input/definitions.ts";
import { versionToAlias } from "../../reconciler/input/versions.ts";
import type { Observation } from "../../reconciler/observe/observe.ts";

export function spec(
  name: string,
  version: string,
  canary?: { version: string; weight: number },
): FunctionSpec {
  return canary
    ? { name, version, canary, index: 0, at: { line: 1, column: 1 } }
    : { name, version, index: 0, at: { line: 1, column: 1 } };
}

export function alias(
  name: string,
  functionVersion: string,
  weights: Record<string, number> = {},
  revisionId = `rev-${name}-${functionVersion}`,
  description = "",
): AliasState {
  return { name, functionVersion, weights, revisionId, description };
}

export function fnState(overrides: Partial<FunctionState> = {}): FunctionState {
  return {
    functionVersion: "$LATEST",
    packageType: "Zip",
    codeSha256: "latest-sha",
    codeSize: 100,
    runtime: "nodejs22.x",
    handler: "index.handler",
    architectures: ["x86_64"],
    role: "arn:aws:iam::222222222222:role/exec",
    deadLetterTargetArn: undefined,
    revisionId: "rev-latest",
    state: "Active",
    lastUpdateStatus: "Successful",
    lastUpdateStatusReason: undefined,
    codeLocation: undefined,
    ...overrides,
  };
}

/**
 * An observation of a function in the target account only: its aliases (LIVE among them) and the
 * given semantic versions, each found behind its version alias.
 */
export function observedInTarget(aliases: AliasState[], versions: string[], liveAlias = "LIVE"): Observation {
  const byName = new Map(aliases.map((a) => [a.name, a]));
  return {
    kind: "observed",
    live: findLive(aliases, liveAlias),
    aliases,
    versions: Object.fromEntries(versions.map((v) => [v, { where: "target", alias: byName.get(versionToAlias(v))! }])),
    latest: undefined,
  };
}

/** An error as the AWS SDK throws it: the service's error name and the HTTP status. */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/** A function before a rollout: LIVE on 1.4.0 (v4), as lambda-gitops wrote it; 1.5.0 published here as v5. */
export function beforeRollout(): AliasState[] {
  return [
    alias("1-4-0", "4"),
    alias("1-5-0", "5"),
    alias("LIVE", "4", {}, "r1", encodeMarker({ version: "1.4.0", functionVersion: "4", weights: {} })),
  ];
}
