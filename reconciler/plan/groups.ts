/**
 * Release sets in the plan: the members of a group (PlanEntry.group) are planned together. Pure.
 * - If any member is blocked, every member is blocked, naming that member and its reason: no
 *   member moves (`group-blocked`).
 * - Until apply moves a group atomically (stage every member, then every LIVE, with a guarded group
 *   rollback), a group with two or more members to change is blocked as a whole (`group-apply`):
 *   fail closed rather than move members one by one. A group with one member to change (or one
 *   member) moves like any function.
 */
import { blocked } from "./blocks.ts";

/** What the group rules read of a plan entry (structural, so plan.ts can call them without a cycle). */
interface Member {
  name: string;
  group?: string;
  action: { kind: string; reason?: string };
}

/** The entries with the group rules applied, in the same order. */
export function applyGroupRules<E extends Member>(entries: readonly E[]): E[] {
  const members = new Map<string, E[]>();
  for (const entry of entries) {
    if (entry.group === undefined) continue;
    const list = members.get(entry.group) ?? [];
    list.push(entry);
    members.set(entry.group, list);
  }
  const verdicts = new Map<string, ReturnType<typeof groupVerdict>>();
  for (const [group, list] of members) verdicts.set(group, groupVerdict(group, list));
  return entries.map((entry) => {
    const verdict = entry.group === undefined ? undefined : verdicts.get(entry.group);
    if (!verdict || entry.action.kind === "blocked") return entry;
    return { ...entry, action: blocked(verdict.code, verdict.reason) } as E;
  });
}

/** Why a whole group does not move, or undefined when its members are planned as they are. */
export function groupVerdict(
  group: string,
  members: readonly Member[],
): { code: "group-blocked" | "group-apply"; reason: string } | undefined {
  const stuck = members.find((m) => m.action.kind === "blocked");
  if (stuck) {
    return {
      code: "group-blocked",
      reason: `group "${group}" does not move: member "${stuck.name}" is blocked: ${stuck.action.reason}`,
    };
  }
  const moving = members.filter((m) => m.action.kind !== "noop");
  if (moving.length < 2) return undefined;
  return {
    code: "group-apply",
    reason: `group "${group}" has ${moving.length} members to change (${moving.map((m) => `"${m.name}"`).join(", ")}); moving a release set together is not applied yet, so no member moves`,
  };
}
