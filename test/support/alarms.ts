/** CloudWatch alarms in a moto account, for rollout tests and the demo (moto emulates alarms). */
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import type { AccountWorld } from "./seed.ts";

export type AlarmValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";

/** A CloudWatch client acting in `world`'s account. */
export function cloudWatchFor(world: AccountWorld): CloudWatchClient {
  return new CloudWatchClient(world.clientConfig);
}

/** Creates (or replaces) a metric alarm on the Lambda error count, in `state`. */
export async function putAlarm(cloudwatch: CloudWatchClient, name: string, state: AlarmValue = "OK"): Promise<void> {
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      MetricName: "Errors",
      Namespace: "AWS/Lambda",
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    }),
  );
  await setAlarm(cloudwatch, name, state);
}

/** Moves an alarm to `state` (SetAlarmState), as a metric breaching its threshold would. */
export async function setAlarm(cloudwatch: CloudWatchClient, name: string, state: AlarmValue): Promise<void> {
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: "test" }));
}
