/**
 * The key scope of a run's functions: the target account is the placeholder "target" (its id is
 * not known without an STS call), the Region is the Lambda client's (parameters.region, or the
 * SDK's default chain, named "default").
 */
import type { JobParameters } from "../input/parameters.ts";
import { TARGET_ACCOUNT } from "../observe/state.ts";
import type { PlanScope } from "./plan.ts";

export function scopeOf(parameters: Pick<JobParameters, "region">): PlanScope {
  return { account: TARGET_ACCOUNT, region: parameters.region ?? "default" };
}
