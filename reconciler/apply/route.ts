/**
 * Executes a route step: move LIVE to the step's routing (create LIVE when the plan saw none),
 * guarded by LIVE's RevisionId, writing the marker into LIVE's description. The UpdateAlias /
 * CreateAlias answer is the alias as it now is (FunctionVersion, RoutingConfig, RevisionId,
 * Description: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html#API_UpdateAlias_ResponseSyntax),
 * so it is the read-back check: no GetAlias after (one control-plane call fewer per change).
 */
import { errorName } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { AliasState } from "../observe/state.ts";
import { realSleep } from "../aws/retry.ts";
import { DEFAULT_WAIT, pollDelay } from "../aws/wait.ts";
import {
  type AliasRouting,
  describeRouting,
  type Routing,
  primaryFunctionVersion,
  resolveRouting,
  routingOfAlias,
  sameRouting,
  toAliasRouting,
} from "../plan/routing.ts";
import { markerDescription, markerOf } from "../observe/marker.ts";
import type { RouteStep } from "../plan/steps.ts";
import {
  ConcurrentChange,
  ensureTime,
  retry,
  retryThrottledCreate,
  StepFailure,
  type StepDeps,
  TIME_NEEDED_MS,
} from "./execution.ts";

export interface RouteOutcome {
  /** The routing LIVE has now, every version known. */
  routing: AliasRouting;
  /** The description written (the marker). */
  description: string;
  /** False when LIVE already had the routing (nothing written). */
  changed: boolean;
}

export async function route(
  name: string,
  step: RouteStep,
  produced: ReadonlyMap<number, string>,
  deps: StepDeps,
  log: Logger,
): Promise<RouteOutcome> {
  const { target } = deps;
  const to = resolveRouting(step.to, produced);
  const routing = toAliasRouting(to);
  if (!routing) throw new StepFailure(`${step.alias} would route to ${describeRouting(to)}, which no step published`);
  const description =
    step.description ??
    markerDescription(
      markerOf(step.declared, routing, { fromFunctionVersion: step.from ? primaryFunctionVersion(step.from) : null }),
    );
  if (step.from && sameRouting(step.from, to)) return { routing, description, changed: false };

  let written;
  if (step.from && step.revisionId !== null) {
    const revisionId = step.revisionId;
    written = await retry(deps, log, "UpdateAlias", () =>
      target.updateAlias(name, step.alias, { ...routing, description, revisionId }),
    );
  } else {
    try {
      written = await retryThrottledCreate(deps, log, () =>
        target.createAlias(name, step.alias, { ...routing, description }),
      );
    } catch (error) {
      if (errorName(error) === "ResourceConflictException") {
        throw new ConcurrentChange(`the ${step.alias} alias was created by someone else meanwhile`);
      }
      throw error;
    }
  }
  if (!sameRouting(routingOfAlias(written), to) && isTransientShift(written, routing, step)) {
    // Provisioned concurrency: Lambda moves the alias gradually, reporting transient weights on
    // the previous version; wait for them to clear instead of failing (and never "fix" them).
    log.info("waiting for Lambda's transient routing weights to clear", { weights: JSON.stringify(written.weights) });
    written = await untilShifted(name, step.alias, to, deps);
  }
  if (!sameRouting(routingOfAlias(written), to)) {
    throw new StepFailure(
      `${step.alias} reads back as v${written.functionVersion} ${JSON.stringify(written.weights)}, expected v${routing.functionVersion} ${JSON.stringify(routing.weights)}`,
    );
  }
  log.info("live alias moved", {
    fromFunctionVersion: step.from ? primaryFunctionVersion(step.from) : null,
    toFunctionVersion: routing.functionVersion,
    fromVersion: step.from?.primary.version ?? null,
    toVersion: step.declared.version,
  });
  return { routing, description, changed: true };
}

/**
 * The answer has the new primary and extra weights only on the version LIVE served before: the
 * transient split Lambda reports while it shifts an alias with provisioned concurrency.
 */
function isTransientShift(written: AliasState, routing: AliasRouting, step: RouteStep): boolean {
  const previous = step.from ? primaryFunctionVersion(step.from) : null;
  if (previous === null || written.functionVersion !== routing.functionVersion) return false;
  const extra = Object.keys(written.weights).filter((v) => !(v in routing.weights));
  return extra.length > 0 && extra.every((v) => v === previous);
}

/** Polls the alias (GetAlias) until it has exactly `routing`, within the wait options and the time left. */
async function untilShifted(name: string, alias: string, to: Routing, deps: StepDeps): Promise<AliasState> {
  const options = deps.wait ?? DEFAULT_WAIT;
  const sleep = options.sleep ?? deps.sleep ?? realSleep;
  let waited = 0;
  for (let poll = 1; waited < options.maxWaitTime * 1000; poll++) {
    ensureTime(deps, TIME_NEEDED_MS.wait, `waiting for ${alias}'s transient routing weights to clear`);
    const delay = pollDelay(poll, waited, options);
    await sleep(delay);
    waited += delay;
    const now = await deps.target.getAlias(name, alias);
    if (!now) throw new ConcurrentChange(`the ${alias} alias disappeared while Lambda shifted it`);
    if (now.functionVersion !== primaryFunctionVersion(to)) {
      throw new ConcurrentChange(`the ${alias} alias was moved to v${now.functionVersion} by someone else meanwhile`);
    }
    if (sameRouting(routingOfAlias(now), to)) return now;
  }
  throw new StepFailure(
    `${alias} still carried transient routing weights after ${options.maxWaitTime} s (provisioned concurrency shifting); the next run waits again, it never rewrites them`,
  );
}
