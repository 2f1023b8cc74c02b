/**
 * The adapters one run observes (and, in apply, changes) through, built by the composition root
 * (entry/context.ts) from the job parameters; and the rollout context read through them.
 */
import type { AlarmReader } from "../aws/cloudwatch.ts";
import type { LambdaWriter } from "../aws/lambda.ts";
import type { FunctionSpec } from "../input/definitions.ts";
import type { RolloutContext } from "../plan/rollout-plan.ts";
import type { AlarmState } from "../plan/rollout.ts";
import type { SourceAccount } from "./observe.ts";
import type { PreflightProbe } from "./preflight.ts";

export interface AwsContext {
  target: LambdaWriter;
  source: SourceAccount | undefined;
  /** This context's Lambda attempts and 429s by account and quota class (absent: scheduler off). */
  apiUsage?: () => Record<string, number>;
  /** STS checks of the same Region and credentials (and source role) before any Lambda call. */
  preflight?: PreflightProbe;
  /** Alarm states in the target account (rollouts); absent in contexts built without CloudWatch. */
  alarms?: AlarmReader;
}

/**
 * The states of the alarms the rollouts name (DescribeAlarms by exact name, only when a function
 * has a rollout with alarms), and the time to plan at. Without an alarm reader every alarm reads
 * as missing, which blocks: a rollout is never unwatched.
 */
export async function rolloutContext(
  functions: readonly FunctionSpec[],
  aws: Pick<AwsContext, "alarms">,
  now: () => number = Date.now,
): Promise<RolloutContext> {
  const names = [...new Set(functions.flatMap((f) => f.rollout?.alarms ?? []))];
  const alarms = names.length > 0 && aws.alarms ? await aws.alarms.alarmStates(names) : new Map<string, AlarmState>();
  return { alarms, now: now() };
}
