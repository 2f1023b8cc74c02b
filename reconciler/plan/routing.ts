/**
 * The one canonical routing form, used by plan, apply and report alike: a primary version plus
 * additional versions with their share, normalised the way Lambda stores them (fractions 0..1 in
 * steps of 1/10000, zero shares dropped, ordered by function version). Like lambroll's diff, both
 * sides are put into this form before any comparison, so an absent routing config equals an
 * empty one and 0.071 equals 7.1%.
 *
 * A version is known by its function version, with its semantic version when one is known; a
 * version that a stage step of the same plan entry will publish is referenced by that step's index
 * ("the version stage N produces") until apply resolves it.
 */
import { type AliasRouting, compareText } from "../observe/state.ts";

export type { AliasRouting };

/** One version in a routing. */
export type RoutedVersion =
  | { version: string | null; functionVersion: string }
  | { version: string; stage: number };

export interface WeightedVersion {
  target: RoutedVersion;
  /** Fraction of traffic, as Lambda stores it (0.1 = 10%). */
  weight: number;
}

export interface Routing {
  primary: RoutedVersion;
  additional: WeightedVersion[];
}

/** A percentage with at most two decimals, as the fraction Lambda stores (10 -> 0.1). */
export function toLambdaWeight(percent: number): number {
  return Math.round(percent * 100) / 10000;
}

const rounded = (fraction: number) => Math.round(fraction * 10000) / 10000;

/** The function version of a routed version, or `stage:N` for one a stage step will publish. */
export function refOf(target: RoutedVersion): string {
  return "functionVersion" in target ? target.functionVersion : `stage:${target.stage}`;
}

/** Put a routing into canonical form (weights rounded, zero shares dropped, ordered). */
export function canonicalRouting(routing: Routing): Routing {
  return {
    primary: { ...routing.primary },
    additional: routing.additional
      .map((w) => ({ target: { ...w.target }, weight: rounded(w.weight) }))
      .filter((w) => w.weight !== 0)
      .sort((a, b) => compareText(refOf(a.target), refOf(b.target))),
  };
}

/**
 * The canonical routing of an alias as Lambda stores it; `versionOf` names the semantic version
 * behind a function version when one is known.
 */
export function routingOfAlias(
  alias: AliasRouting,
  versionOf: (functionVersion: string) => string | null = () => null,
): Routing {
  return canonicalRouting({
    primary: { version: versionOf(alias.functionVersion), functionVersion: alias.functionVersion },
    additional: Object.entries(alias.weights).map(([functionVersion, weight]) => ({
      target: { version: versionOf(functionVersion), functionVersion },
      weight,
    })),
  });
}

/** Same routing: same primary and the same shares, as Lambda stores them. Semantic versions are labels only. */
export function sameRouting(a: Routing, b: Routing): boolean {
  const text = (r: Routing) => {
    const c = canonicalRouting(r);
    return [refOf(c.primary), ...c.additional.map((w) => `${refOf(w.target)}=${w.weight}`)].join(",");
  };
  return text(a) === text(b);
}

/** Replace each stage reference by the function version that stage published. */
export function resolveRouting(routing: Routing, produced: ReadonlyMap<number, string>): Routing {
  const resolve = (target: RoutedVersion): RoutedVersion => {
    if ("functionVersion" in target) return target;
    const functionVersion = produced.get(target.stage);
    return functionVersion === undefined ? target : { version: target.version, functionVersion };
  };
  return canonicalRouting({
    primary: resolve(routing.primary),
    additional: routing.additional.map((w) => ({ target: resolve(w.target), weight: w.weight })),
  });
}

/** The routing as Lambda's alias API takes it; undefined while a stage reference is unresolved. */
export function toAliasRouting(routing: Routing): AliasRouting | undefined {
  const c = canonicalRouting(routing);
  if (!("functionVersion" in c.primary)) return undefined;
  const weights: Record<string, number> = {};
  for (const w of c.additional) {
    if (!("functionVersion" in w.target)) return undefined;
    weights[w.target.functionVersion] = w.weight;
  }
  return { functionVersion: c.primary.functionVersion, weights };
}

/** The primary's function version, when known. */
export function primaryFunctionVersion(routing: Routing): string | null {
  return "functionVersion" in routing.primary ? routing.primary.functionVersion : null;
}

/** "v3"; a version a stage step will publish reads "1.2.0 (published by step 1)". */
export function describeVersion(target: RoutedVersion): string {
  return "functionVersion" in target
    ? `v${target.functionVersion}`
    : `${target.version} (published by step ${target.stage + 1})`;
}

/** " + 10% v4" per additional version; "" when none. */
export function describeAdditional(routing: Routing): string {
  return canonicalRouting(routing)
    .additional.map((w) => ` + ${Math.round(w.weight * 10000) / 100}% ${describeVersion(w.target)}`)
    .join("");
}

/** "v3 + 10% v4". */
export function describeRouting(routing: Routing): string {
  return `${describeVersion(routing.primary)}${describeAdditional(routing)}`;
}
