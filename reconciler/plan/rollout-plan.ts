/**
 * Where a declared rollout meets the planner. Given the route step planFunction would take (LIVE
 * now, the routing it ends with), decide with the rollout decision (./rollout.ts: LIVE's routing,
 * its marker, the alarms, the time) whether LIVE moves progressively (a rollout step), in one
 * write as usual (no LIVE yet, an older version, a revert...), or not at all (blocked: a named
 * alarm missing or firing before the first shift, or this rollout rolled back before). Pure.
 */
import type { Rollout } from "../input/rollout-schema.ts";
import type { Live } from "../observe/live.ts";
import { type AlarmState, decideRollout, type RolloutBlock, type RolloutDecision, type RolloutPosition } from "./rollout.ts";
import { type AliasRouting, refOf, type Routing, toAliasRouting } from "./routing.ts";
import type { RolloutStep, RouteStep } from "./steps.ts";

/** What planning a rollout needs beyond the observation: the alarms' states and the time. */
export interface RolloutContext {
  alarms: ReadonlyMap<string, AlarmState>;
  /** Milliseconds since the epoch. */
  now: number;
}

/** No alarm observed (every one reads as missing) at time 0: for callers that plan no rollouts. */
export const NO_ROLLOUT_CONTEXT: RolloutContext = { alarms: new Map(), now: 0 };

export type RolloutPlanning =
  | { kind: "route" }
  | { kind: "rollout"; step: RolloutStep }
  | { kind: "blocked"; code: RolloutBlock; reason: string };

/**
 * A version a stage step publishes has no function version yet: the decision sees it as
 * `stage:N`, enough to tell a new rollout from anything else.
 */
export function planRollout(
  rollout: Rollout,
  route: RouteStep,
  live: Live | null,
  context: RolloutContext,
): RolloutPlanning {
  const decision = decideRollout({
    rollout,
    declared: route.declared,
    target: toAliasRouting(route.to) ?? placeholder(route.to),
    live,
    alarms: context.alarms,
    now: context.now,
  });
  switch (decision.kind) {
    case "immediate":
    case "done":
      // One write as usual; or, done, LIVE already routes as declared with the bake over: the
      // planner makes that a noop.
      return { kind: "route" };
    case "blocked":
      return { kind: "blocked", code: decision.code, reason: decision.reason };
    default:
      return { kind: "rollout", step: { ...route, kind: "rollout", rollout, position: positionOf(decision) } };
  }
}

/** The decision without its write: where the rollout stands. */
function positionOf(decision: Extract<RolloutDecision, { kind: "shift" | "wait" | "rollback" }>): RolloutPosition {
  switch (decision.kind) {
    case "shift":
      return { kind: "shift", step: decision.step, steps: decision.steps, first: decision.first };
    case "wait":
      return { ...decision };
    case "rollback":
      return { kind: "rollback", alarm: decision.alarm, state: decision.state, step: decision.step, steps: decision.steps };
  }
}

function placeholder(routing: Routing): AliasRouting {
  const weights: Record<string, number> = {};
  for (const w of routing.additional) weights[refOf(w.target)] = w.weight;
  return { functionVersion: refOf(routing.primary), weights };
}
