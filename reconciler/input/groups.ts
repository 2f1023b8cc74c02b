/**
 * Release sets in the definition file: the functions that share a `group` move together, so they
 * share one rollout schedule. A member whose resolved rollout (its own, else the file's default)
 * differs from the group's first member is a located problem at its `group` value. Pure.
 */
import type { Problem } from "../core/errors.ts";
import type { Position } from "./document.ts";
import { locate, type PositionedDocument, problemAt } from "./document.ts";
import type { Rollout } from "./rollout-schema.ts";
import { quoteValue } from "./versions.ts";

/** What the rule reads of a function spec (structural, so definitions.ts can call it without a cycle). */
interface GroupMember {
  name: string;
  group?: string;
  rollout?: Rollout;
  index: number;
  at: Position;
}

/** One schedule per group: every member after the first whose rollout differs is a problem. */
export function groupRolloutProblems(document: PositionedDocument, specs: readonly GroupMember[]): Problem[] {
  const first = new Map<string, GroupMember>();
  const problems: Problem[] = [];
  for (const spec of specs) {
    if (spec.group === undefined) continue;
    const leader = first.get(spec.group);
    if (!leader) {
      first.set(spec.group, spec);
      continue;
    }
    if (sameRollout(leader.rollout, spec.rollout)) continue;
    const path = ["lambdas", spec.index, "group"];
    const message =
      `function ${quoteValue(spec.name)} in group ${quoteValue(spec.group)} has ${describe(spec.rollout)}, ` +
      `but ${quoteValue(leader.name)} (line ${leader.at.line}) has ${describe(leader.rollout)}: ` +
      "the members of a group move on one schedule, so they must declare the same rollout";
    problems.push(problemAt(document, locate(document, path).node, path, message));
  }
  return problems;
}

/** Same resolved rollout (steps, interval, bake, alarms, smoke), or both all at once. */
export function sameRollout(a: Rollout | undefined, b: Rollout | undefined): boolean {
  if (!a || !b) return !a && !b;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(r: Rollout): unknown[] {
  return [r.steps, r.intervalSeconds, r.bakeSeconds, [...r.alarms].sort(), r.smoke ? [r.smoke.payload] : null];
}

function describe(rollout: Rollout | undefined): string {
  return rollout ? `a rollout of ${rollout.steps.join("% -> ")}% -> 100%` : "no rollout (all at once)";
}
