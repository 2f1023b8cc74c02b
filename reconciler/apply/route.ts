/**
 * Executes a route step: move LIVE to the step's routing (create LIVE when the plan saw none),
 * guarded by LIVE's RevisionId, writing the marker into LIVE's description. The UpdateAlias /
 * CreateAlias answer is the alias as it now is (FunctionVersion, RoutingConfig, RevisionId,
 * Description: https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html#API_UpdateAlias_ResponseSyntax),
 * so it is the read-back check: no GetAlias after (one control-plane call fewer per change).
 */
import { errorName } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import {
  type AliasRouting,
  describeRouting,
  primaryFunctionVersion,
  resolveRouting,
  routingOfAlias,
  sameRouting,
  toAliasRouting,
} from "../plan/routing.ts";
import { routeDescription, type RouteStep } from "../plan/steps.ts";
import { ConcurrentChange, retry, retryThrottledCreate, StepFailure, type StepDeps } from "./execution.ts";

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
  const description = step.description ?? routeDescription(step.declared, routing);
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
