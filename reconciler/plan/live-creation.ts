/**
 * Creating the LIVE alias is a visible decision, not a routine repoint: on a new function it is
 * expected, but a plan that would create it on all or most functions usually means a typo in
 * --live-alias (`PROD` for `LIVE`) or the wrong account. Pure.
 */
import type { Plan } from "./plan.ts";

export interface LiveCreation {
  /** Functions where this plan creates the LIVE alias. */
  creating: string[];
  total: number;
  /** More than half of the functions: say so loudly before the plan. */
  loud: boolean;
}

export function liveCreation(plan: Plan): LiveCreation {
  const creating = plan.entries.filter((e) => e.live === null && e.action.kind !== "blocked").map((e) => e.name);
  const total = plan.entries.length;
  return { creating, total, loud: creating.length * 2 > total };
}

/** The loud warning, or undefined when creating LIVE is not the plan's main effect. */
export function liveCreationWarning(plan: Plan): string | undefined {
  const { creating, total, loud } = liveCreation(plan);
  if (!loud) return undefined;
  const scope = creating.length === total ? `every function (${total})` : `${creating.length} of ${total} functions`;
  return (
    `WARNING: this plan CREATES the alias "${plan.liveAlias}" on ${scope}: none of them has it yet. ` +
    `Right for a new environment; otherwise check the alias name (--live-alias, default LIVE) and the account.`
  );
}
