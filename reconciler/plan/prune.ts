/**
 * Pruning: which published versions of a function may go, within a rollback window. Pure.
 *
 * Lambda keeps every version's code against the Region's code-storage quota (75 GB by default), so
 * old versions must go; but a version that serves traffic, that someone else's alias names, or that
 * a rollback may need must never go. Per function, from what ListVersionsByFunction and ListAliases
 * returned, keep (each kept version says why):
 * - `latest`: `$LATEST` is never deleted (it is not a version one can delete);
 * - `live-primary` / `live-weighted`: every version LIVE routes to;
 * - `foreign-alias`: every version behind an alias that is not one of our version aliases (an alias
 *   whose name `aliasToVersion` does not read as a semantic version, or one of ours that does not
 *   point plainly at one published version): someone else's alias is theirs;
 * - `rollout`: the version a rollout in progress started from (the marker in LIVE's description);
 * - `window`: the versions of the N highest semantic versions published here (our version aliases):
 *   a rollback must always find its version;
 * - `newer-than-live-unaliased`: a version no alias names (a crash between publish and alias) that is
 *   not older than LIVE's primary: it may be the next release being staged;
 * - `event-source-mapping UUID`: a version an event-source mapping invokes, by its qualified ARN or
 *   through an alias (the alias's versions); Lambda does not refuse to delete such a version;
 * - `provisioned-concurrency`: a version with provisioned concurrency, itself or through an alias;
 * - `not-published-by-lambda-gitops`: an unaliased version whose description is not one lambda-gitops
 *   writes when it publishes (someone else's version is theirs).
 * Everything else goes: our remaining version aliases together with their versions, and unaliased
 * versions lambda-gitops published that are older (numerically lower) than LIVE's primary; oldest
 * (lowest number) first, each version after its aliases (Lambda refuses to delete a version an
 * alias references).
 * Without a LIVE alias nothing is deleted for that function: there is no traffic to protect, so no
 * way to tell which versions matter.
 */
import { isPublishedVersion, type VersionSummary } from "../observe/state.ts";
import { aliasToVersion, checkVersion, compareVersions } from "../input/versions.ts";
import type { AliasInfo, Invokers, PruneObservation } from "../observe/versions.ts";
import { decodeMarker } from "../observe/marker.ts";

export type { AliasInfo, Invokers, PruneObservation };

/** One version as ListVersionsByFunction returns it. */
export type VersionInfo = VersionSummary;

export interface PruneInput {
  name: string;
  versions: readonly VersionInfo[];
  aliases: readonly AliasInfo[];
  invokers: Invokers;
  liveAlias: string;
  /** The rollback window: how many of the highest semantic versions keep their versions (>= 1). */
  keep: number;
}

export type KeepReason =
  | { kind: "latest" }
  | { kind: "live-primary" }
  | { kind: "live-weighted" }
  | { kind: "foreign-alias"; alias: string }
  | { kind: "rollout"; fromVersion: string }
  | { kind: "window"; version: string }
  | { kind: "newer-than-live-unaliased" }
  | { kind: "event-source-mapping"; uuid: string }
  | { kind: "provisioned-concurrency" }
  | { kind: "not-published-by-lambda-gitops" };

export interface KeptVersion {
  functionVersion: string;
  /** Semantic versions our version aliases give it (highest first); empty when none. */
  versions: string[];
  /** Every reason that applies, most important first. */
  reasons: KeepReason[];
}

export type DeleteReason = "outside-window" | "unaliased-older-than-live";

export interface Deletion {
  functionVersion: string;
  /** Our version aliases on it, deleted first (empty for an unaliased version). */
  aliases: string[];
  /** The semantic versions those aliases carry (highest first). */
  versions: string[];
  reason: DeleteReason;
  codeSha256: string;
  lastModified: string;
}

export type PruneStep =
  | { kind: "delete-alias"; alias: string; functionVersion: string }
  | { kind: "delete-version"; functionVersion: string };

export type PruneSkipCode = "no-live" | "function-missing" | "observe-failed";

export type PruneEntry =
  | { name: string; kind: "prune"; live: string; keep: KeptVersion[]; deletions: Deletion[] }
  | { name: string; kind: "skipped"; code: PruneSkipCode; reason: string };

export interface PrunePlan {
  liveAlias: string;
  keep: number;
  entries: PruneEntry[];
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

/** A plain version alias of ours: a semantic-version name pointing at one published version. */
function ourVersionOf(alias: AliasInfo): string | undefined {
  const version = aliasToVersion(alias.name);
  if (version === undefined) return undefined;
  if (!isPublishedVersion(alias.functionVersion) || Object.keys(alias.weights).length > 0) return undefined;
  return version;
}

/** Every version an alias routes to: its primary and each additional version with a weight. */
export function routedVersions(alias: Pick<AliasInfo, "functionVersion" | "weights">): string[] {
  return [alias.functionVersion, ...Object.keys(alias.weights)];
}

/** The qualifier of a function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER`), if any. */
export function qualifierOf(functionArn: string): string | undefined {
  const parts = functionArn.split(":");
  return parts.length === 8 && parts[5] === "function" ? parts[7] : undefined;
}

/** The published versions a qualifier reaches: a version itself, or every version an alias routes to. */
function versionsReached(qualifier: string | undefined, aliases: readonly AliasInfo[]): string[] {
  if (qualifier === undefined) return [];
  if (isPublishedVersion(qualifier)) return [qualifier];
  const alias = aliases.find((a) => a.name === qualifier);
  return alias ? routedVersions(alias).filter(isPublishedVersion) : [];
}

/**
 * A version lambda-gitops published: its description starts "lambda-gitops <semantic version>",
 * as the promotion's stage step (apply/stage.ts: "lambda-gitops 1.4.2 from ACCOUNT vN sha256:...")
 * and `publish` (plan/publish.ts versionDescription: "lambda-gitops 1.4.2" or "...: provenance") write.
 */
export function publishedByLambdaGitops(description: string): boolean {
  const match = /^lambda-gitops (\S+?)(?=$|:| )/.exec(description);
  return match !== null && checkVersion(match[1]!).ok;
}

/** Decide, for one function, what to keep (and why) and what to delete (in order). */
export function planPrune(input: PruneInput): PruneEntry {
  const { name, liveAlias } = input;
  const live = input.aliases.find((a) => a.name === liveAlias);
  if (!live) {
    return {
      name,
      kind: "skipped",
      code: "no-live",
      reason: `no ${liveAlias} alias: nothing serves traffic through this tool yet, so nothing is deleted`,
    };
  }
  const reasons = new Map<string, KeepReason[]>();
  const keepFor = (functionVersion: string, reason: KeepReason) => {
    const list = reasons.get(functionVersion) ?? [];
    list.push(reason);
    reasons.set(functionVersion, list);
  };

  keepFor("$LATEST", { kind: "latest" });
  keepFor(live.functionVersion, { kind: "live-primary" });
  for (const v of Object.keys(live.weights)) keepFor(v, { kind: "live-weighted" });

  const ours = new Map<string, { alias: string; version: string }[]>();
  for (const alias of input.aliases) {
    if (alias.name === liveAlias) continue;
    const version = ourVersionOf(alias);
    if (version === undefined) {
      for (const v of routedVersions(alias)) keepFor(v, { kind: "foreign-alias", alias: alias.name });
      continue;
    }
    const list = ours.get(alias.functionVersion) ?? [];
    list.push({ alias: alias.name, version });
    ours.set(alias.functionVersion, list);
  }

  for (const mapping of input.invokers.mappings) {
    for (const v of versionsReached(qualifierOf(mapping.functionArn), input.aliases)) {
      keepFor(v, { kind: "event-source-mapping", uuid: mapping.uuid });
    }
  }
  for (const arn of input.invokers.provisioned) {
    for (const v of versionsReached(qualifierOf(arn), input.aliases)) keepFor(v, { kind: "provisioned-concurrency" });
  }

  const rollout = decodeMarker(live.description)?.rollout;
  if (rollout) keepFor(rollout.fromFunctionVersion, { kind: "rollout", fromVersion: rollout.fromVersion });

  const semvers = [...ours.entries()]
    .flatMap(([functionVersion, list]) => list.map(({ version }) => ({ version, functionVersion })))
    .sort((a, b) => compareVersions(b.version, a.version));
  for (const { version, functionVersion } of semvers.slice(0, Math.max(1, input.keep))) {
    keepFor(functionVersion, { kind: "window", version });
  }

  const livePrimary = isPublishedVersion(live.functionVersion) ? Number(live.functionVersion) : undefined;
  const versionsOf = (functionVersion: string) =>
    (ours.get(functionVersion) ?? []).map((o) => o.version).sort((a, b) => compareVersions(b, a));

  const known = new Map(input.versions.map((v) => [v.functionVersion, v]));
  const keep: KeptVersion[] = [];
  const deletions: Deletion[] = [];
  for (const functionVersion of allVersions(input)) {
    const info = known.get(functionVersion);
    const kept = reasons.get(functionVersion);
    if (kept) {
      keep.push({ functionVersion, versions: versionsOf(functionVersion), reasons: kept });
      continue;
    }
    if (!info) continue; // named by an alias of ours but not listed: nothing to delete
    const aliases = (ours.get(functionVersion) ?? []).map((o) => o.alias).sort();
    if (aliases.length === 0 && (livePrimary === undefined || Number(functionVersion) >= livePrimary)) {
      keep.push({ functionVersion, versions: [], reasons: [{ kind: "newer-than-live-unaliased" }] });
      continue;
    }
    if (aliases.length === 0 && !publishedByLambdaGitops(info.description)) {
      keep.push({ functionVersion, versions: [], reasons: [{ kind: "not-published-by-lambda-gitops" }] });
      continue;
    }
    deletions.push({
      functionVersion,
      aliases,
      versions: versionsOf(functionVersion),
      reason: aliases.length > 0 ? "outside-window" : "unaliased-older-than-live",
      codeSha256: info.codeSha256,
      lastModified: info.lastModified,
    });
  }
  return { name, kind: "prune", live: live.functionVersion, keep, deletions };
}

/** $LATEST first, then every published version listed or named by an alias, lowest number first. */
function allVersions(input: PruneInput): string[] {
  const numbers = new Set<string>();
  for (const v of input.versions) if (isPublishedVersion(v.functionVersion)) numbers.add(v.functionVersion);
  for (const a of input.aliases) {
    for (const v of routedVersions(a)) if (isPublishedVersion(v)) numbers.add(v);
  }
  const latest = input.versions.some((v) => v.functionVersion === "$LATEST") ? ["$LATEST"] : [];
  return [...latest, ...[...numbers].sort(byNumber)];
}

/** The steps of one deletion: each version alias, then the version. */
export function deletionSteps(deletion: Deletion): PruneStep[] {
  return [
    ...deletion.aliases.map((alias) => ({
      kind: "delete-alias" as const,
      alias,
      functionVersion: deletion.functionVersion,
    })),
    { kind: "delete-version", functionVersion: deletion.functionVersion },
  ];
}

/** Every step of an entry, in order (oldest version first). */
export function pruneSteps(entry: PruneEntry): PruneStep[] {
  return entry.kind === "prune" ? entry.deletions.flatMap(deletionSteps) : [];
}

/** "live-primary", "foreign-alias team-b-canary", "window 1.4.0", ... */
export function describeKeepReason(reason: KeepReason): string {
  switch (reason.kind) {
    case "latest":
      return "$LATEST (never deleted)";
    case "foreign-alias":
      return `foreign-alias ${reason.alias}`;
    case "rollout":
      return `rollout (from ${reason.fromVersion})`;
    case "window":
      return `window ${reason.version}`;
    case "event-source-mapping":
      return `event-source-mapping ${reason.uuid}`;
    default:
      return reason.kind;
  }
}

/** Counts for a summary line. */
export function summarisePrune(plan: PrunePlan): { functions: number; skipped: number; versions: number; aliases: number } {
  let skipped = 0;
  let versions = 0;
  let aliases = 0;
  for (const e of plan.entries) {
    if (e.kind === "skipped") {
      skipped += 1;
      continue;
    }
    versions += e.deletions.length;
    aliases += e.deletions.reduce((n, d) => n + d.aliases.length, 0);
  }
  return { functions: plan.entries.length, skipped, versions, aliases };
}

/** The prune plan of every function, sorted by name. */
export function buildPrunePlan(
  names: readonly string[],
  observations: ReadonlyMap<string, PruneObservation>,
  liveAlias: string,
  keep: number,
): PrunePlan {
  const entries = [...names].sort().map((name): PruneEntry => {
    const seen = observations.get(name) ?? { kind: "failed", message: "not observed" };
    if (seen.kind === "missing-function") {
      return { name, kind: "skipped", code: "function-missing", reason: `function "${name}" does not exist` };
    }
    if (seen.kind === "failed") return { name, kind: "skipped", code: "observe-failed", reason: seen.message };
    return planPrune({ name, versions: seen.versions, aliases: seen.aliases, invokers: seen.invokers, liveAlias, keep });
  });
  return { liveAlias, keep, entries };
}
