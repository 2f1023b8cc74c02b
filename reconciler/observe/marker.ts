/**
 * The marker: what the reconciler last wrote to LIVE, kept in LIVE's alias description so that it
 * outlives the process. Any later run (the next pipeline job, the CLI, a re-run after a crash, the
 * scheduled drift check) reads it back from ListAliases, at no extra call, to tell:
 * - drift: LIVE's routing differs from the routing the marker says we wrote (someone moved it);
 * - a rollout in progress: which step it is on, since when, and where it came from.
 *
 * Format: `lambda-gitops/1 ` followed by compact JSON with short keys, because Lambda caps an
 * alias description at 256 characters. Pure: no I/O. A description that is not a marker (a human's
 * note, an older tool's text, a marker cut short) decodes to `undefined`, never to a guess.
 */

import { type Declared, declaredOf } from "../input/definitions.ts";
import type { AliasRouting } from "./state.ts";

/** Lambda's limit on an alias's Description. */
export const MAX_ALIAS_DESCRIPTION = 256;
export const MARKER_PREFIX = "lambda-gitops/1 ";

/** A rollout in progress, as recorded with each traffic shift. */
export interface RolloutMarker {
  /** The semantic version LIVE's primary served before the rollout (where a rollback goes). */
  fromVersion: string;
  /** The function version behind `fromVersion`. */
  fromFunctionVersion: string;
  /** 1-based index of the traffic step now in force; `steps + 1` means 100% (baking). */
  step: number;
  /** Number of partial steps in the rollout (not counting the final 100%). */
  steps: number;
  /** When the current step began, in whole seconds since the epoch (UTC). */
  since: number;
  /**
   * The rollout was rolled back at `step` (an alarm fired): LIVE went back to `fromFunctionVersion`
   * at `since`. Later runs hold it there instead of starting the same rollout again.
   */
  rolledBack?: true;
  /**
   * The rollout finished: LIVE reached 100% and the bake ended with every alarm OK. Written by the
   * completing write (the last shift when there is no bake, or the write that records the bake's
   * end). A finished rollout's alarms are never read again.
   */
  done?: true;
}

/** The rollout part's sixth element: how it ended (absent: still running). */
const ROLLED_BACK = 1;
const DONE = 2;

/**
 * What the file declared when this routing was written (`version`, `canary`) and the routing
 * written (`functionVersion`, `weights`: fractions 0..1).
 */
export interface Marker extends Declared, AliasRouting {
  /**
   * The function version LIVE's primary served before this write, when the write moved it. While
   * Lambda shifts an alias with provisioned concurrency it reports a transient weight on exactly
   * that version; a later plan recognises it by this field (plan.ts) and leaves it to Lambda.
   */
  fromFunctionVersion?: string;
  rollout?: RolloutMarker;
}

interface MarkerJson {
  v: string;
  c?: [string, number];
  p: string;
  w?: Record<string, number>;
  r?: [string, string, number, number, number] | [string, string, number, number, number, number];
  f?: string;
}

/**
 * The one builder of a marker: what was declared, the routing written, and (optionally) the
 * previous primary (recorded only when this write moves the primary) and the rollout's position.
 */
export function markerOf(
  declared: Declared,
  routing: AliasRouting,
  extra: { fromFunctionVersion?: string | null; rollout?: RolloutMarker } = {},
): Marker {
  const from = extra.fromFunctionVersion;
  return {
    ...declaredOf(declared),
    functionVersion: routing.functionVersion,
    weights: { ...routing.weights },
    ...(from !== undefined && from !== null && from !== routing.functionVersion ? { fromFunctionVersion: from } : {}),
    ...(extra.rollout ? { rollout: extra.rollout } : {}),
  };
}

/** The description LIVE is written with: the marker, or a short plain text when it cannot fit. */
export function markerDescription(marker: Marker): string {
  return encodeMarker(marker) ?? `lambda-gitops: ${marker.version}`.slice(0, MAX_ALIAS_DESCRIPTION);
}

/**
 * The description to write, or `undefined` when the marker cannot fit in 256 characters. When the
 * full marker is too long, the rollout's `fromVersion` is left out (written as ""): it is only a
 * label, read back from the version aliases of `fromFunctionVersion`. The file's versions can never
 * make the rest too long: definitions.ts refuses them (MARKER_VERSION_ROOM, pinned by marker.test.ts).
 */
export function encodeMarker(marker: Marker): string | undefined {
  const json: MarkerJson = { v: marker.version, p: marker.functionVersion };
  if (marker.canary) json.c = [marker.canary.version, marker.canary.weight];
  if (Object.keys(marker.weights).length > 0) json.w = sortedWeights(marker.weights);
  if (marker.fromFunctionVersion !== undefined) json.f = marker.fromFunctionVersion;
  const text = (fromVersion: string) => {
    const r = marker.rollout;
    if (r) {
      const base: [string, string, number, number, number] = [fromVersion, r.fromFunctionVersion, r.step, r.steps, r.since];
      const end = r.rolledBack ? ROLLED_BACK : r.done ? DONE : undefined;
      json.r = end === undefined ? base : [...base, end];
    }
    return MARKER_PREFIX + JSON.stringify(json);
  };
  const full = text(marker.rollout?.fromVersion ?? "");
  if (full.length <= MAX_ALIAS_DESCRIPTION) return full;
  const short = marker.rollout ? text("") : full;
  return short.length <= MAX_ALIAS_DESCRIPTION ? short : undefined;
}

/** Read a marker back from an alias description; anything else is `undefined`. */
export function decodeMarker(description: string | undefined | null): Marker | undefined {
  if (!description?.startsWith(MARKER_PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(description.slice(MARKER_PREFIX.length));
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || typeof parsed.v !== "string" || typeof parsed.p !== "string") return undefined;
  const marker: Marker = { version: parsed.v, functionVersion: parsed.p, weights: {} };
  if (parsed.c !== undefined) {
    const c = parsed.c;
    if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== "string" || !isFiniteNumber(c[1])) return undefined;
    marker.canary = { version: c[0], weight: c[1] };
  }
  if (parsed.w !== undefined) {
    if (!isRecord(parsed.w)) return undefined;
    for (const [version, weight] of Object.entries(parsed.w)) {
      if (!isFiniteNumber(weight)) return undefined;
      marker.weights[version] = weight;
    }
  }
  if (parsed.f !== undefined) {
    if (typeof parsed.f !== "string") return undefined;
    marker.fromFunctionVersion = parsed.f;
  }
  if (parsed.r !== undefined) {
    const r = parsed.r;
    if (
      !Array.isArray(r) ||
      (r.length !== 5 && !(r.length === 6 && (r[5] === ROLLED_BACK || r[5] === DONE))) ||
      typeof r[0] !== "string" ||
      typeof r[1] !== "string" ||
      !isPositiveInt(r[2]) ||
      !isPositiveInt(r[3] + 1) ||
      !isPositiveInt(r[4])
    ) {
      return undefined;
    }
    marker.rollout = { fromVersion: r[0], fromFunctionVersion: r[1], step: r[2], steps: r[3], since: r[4] };
    if (r[5] === ROLLED_BACK) marker.rollout.rolledBack = true;
    if (r[5] === DONE) marker.rollout.done = true;
  }
  return marker;
}

function sortedWeights(weights: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isPositiveInt(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 1;
}
