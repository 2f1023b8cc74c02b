/**
 * Which of a definition's functions a run in one Region reconciles. A function is reconciled in
 * each of its `regions` (its own, else the file's); without any, in the Region of the run. Pure.
 */
import type { Definition, FunctionSpec } from "./definitions.ts";

/** Functions of another Region, left to the reconciler there. */
export interface LeftTo {
  region: string;
  count: number;
}

export type RegionalDefinition =
  | { ok: true; definition: Definition; leftTo: LeftTo[] }
  | { ok: false; message: string };

/** The Regions a function is reconciled in, given the Region of the run. */
export function regionsOf(spec: Pick<FunctionSpec, "regions">, runRegion: string): string[] {
  return spec.regions ?? [runRegion];
}

/** Every Region the definition declares, sorted; [runRegion] for functions without regions. */
export function declaredRegions(definition: Definition, runRegion: string): string[] {
  return [...new Set(definition.functions.flatMap((f) => regionsOf(f, runRegion)))].sort();
}

/** The definition narrowed to `runRegion`'s functions, and the count left to each other Region. */
export function inRegion(definition: Definition, runRegion: string | undefined): RegionalDefinition {
  if (runRegion === undefined) {
    if (definition.functions.every((f) => f.regions === undefined)) return { ok: true, definition, leftTo: [] };
    return {
      ok: false,
      message: `${definition.file} lists Regions, and this run's Region is unknown: set AWS_REGION or the "region" parameter`,
    };
  }
  const left = new Map<string, number>();
  const functions = definition.functions.filter((f) => {
    const regions = regionsOf(f, runRegion);
    for (const region of regions) if (region !== runRegion) left.set(region, (left.get(region) ?? 0) + 1);
    return regions.includes(runRegion);
  });
  const leftTo = [...left.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([region, count]) => ({ region, count }));
  return { ok: true, definition: { ...definition, functions }, leftTo };
}

/**
 * The CLI's narrowing: like inRegion, and an error when the file lists Regions but none of its
 * functions is in `runRegion` (a --region the file does not declare).
 */
export function regionalOrError(definition: Definition, runRegion: string | undefined): RegionalDefinition {
  const regional = inRegion(definition, runRegion);
  if (!regional.ok || runRegion === undefined) return regional;
  if (definition.functions.length > 0 && regional.definition.functions.length === 0) {
    const declared = declaredRegions(definition, runRegion).join(", ");
    return {
      ok: false,
      message: `${definition.file} does not declare Region ${runRegion} (it declares ${declared}): pass --region with one of them`,
    };
  }
  return regional;
}

/** "3 functions in eu-west-1 are left to the reconciler there." (empty when none are). */
export function leftToNote(leftTo: readonly LeftTo[]): string {
  return leftTo
    .map(({ region, count }) =>
      `${count} ${count === 1 ? "function" : "functions"} in ${region} ${count === 1 ? "is" : "are"} left to the reconciler there.`,
    )
    .join(" ");
}
