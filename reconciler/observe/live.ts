/**
 * LIVE as observed: one value, built once per function from one ListAliases answer (or from the
 * alias an UpdateAlias / CreateAlias hands back), and taken unchanged by every stage: the planner,
 * the rollout decision and runner, drift, status and the renderers. `null` where LIVE does not
 * exist.
 */
import { aliasToVersion, compareVersions } from "../input/versions.ts";
import { decodeMarker, type Marker } from "./marker.ts";
import { type AliasRouting, aliasRouting, type AliasState } from "./state.ts";

export interface Live {
  /** LIVE's routing as Lambda stores it (primary function version, additional weights). */
  routing: AliasRouting;
  /** The semantic version LIVE's primary carries (read back from the version aliases), if known. */
  version: string | null;
  /** The precondition of the next guarded write. */
  revisionId: string;
  /** LIVE's description as read ("" when none). */
  description: string;
  /** The marker decoded from the description: what the reconciler last wrote (undefined: none). */
  marker: Marker | undefined;
}

/** LIVE from an alias as Lambda answered it; `aliases` (the function's aliases) name its version. */
export function liveOf(alias: AliasState, aliases: readonly AliasState[]): Live {
  return {
    routing: aliasRouting(alias),
    version: semverOf(alias.functionVersion, aliases),
    revisionId: alias.revisionId,
    description: alias.description,
    marker: decodeMarker(alias.description),
  };
}

/** LIVE among a function's aliases (ListAliases), or null when there is no alias of that name. */
export function findLive(aliases: readonly AliasState[], liveAlias: string): Live | null {
  const alias = aliases.find((a) => a.name === liveAlias);
  return alias ? liveOf(alias, aliases) : null;
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
