/**
 * Thin adapter over @aws-sdk/client-cloudwatch: the states of the alarms a rollout watches.
 * DescribeAlarms with `AlarmNames` matches names exactly (no prefix) and takes at most 100 names
 * per call (CloudWatch API reference, DescribeAlarms: AlarmNames, maximum 100 items), so names are
 * sent in batches of 100; each batch is paged with NextToken. Only metric alarms are asked for:
 * DescribeAlarms returns composite alarms only to a caller whose cloudwatch:DescribeAlarms grant is
 * scoped to "*" (DescribeAlarms API reference), and the reconciler's grant is narrower (this account's
 * and Region's alarm ARNs), so a composite alarm's name reads as `missing` and blocks the rollout
 * (fail closed) instead of being silently unwatched. A name with no alarm is `missing`; any failed
 * call throws (an AccessDenied never looks like "no alarm").
 */
import {
  type CloudWatchClient,
  paginateDescribeAlarms,
  type StateValue,
} from "@aws-sdk/client-cloudwatch";
import { AwsCallError } from "../core/errors.ts";
import type { AlarmState } from "../plan/rollout.ts";

export const MAX_ALARM_NAMES_PER_CALL = 100;

export interface AlarmReader {
  /** name -> state for every name asked (duplicates asked once); `missing` when no such alarm. */
  alarmStates(names: readonly string[]): Promise<Map<string, AlarmState>>;
}

function toAlarmState(value: StateValue | string | undefined): AlarmState {
  // Anything CloudWatch adds later is not "OK": treated as firing, so it fails closed.
  return value === "OK" || value === "INSUFFICIENT_DATA" ? value : "ALARM";
}

export function createCloudWatchAdapter(client: CloudWatchClient): AlarmReader {
  return {
    async alarmStates(names) {
      const unique = [...new Set(names)];
      const states = new Map<string, AlarmState>(unique.map((name) => [name, "missing"]));
      for (let i = 0; i < unique.length; i += MAX_ALARM_NAMES_PER_CALL) {
        const batch = unique.slice(i, i + MAX_ALARM_NAMES_PER_CALL);
        try {
          for await (const page of paginateDescribeAlarms(
            { client },
            { AlarmNames: batch, AlarmTypes: ["MetricAlarm"] },
          )) {
            for (const alarm of page.MetricAlarms ?? []) {
              if (alarm.AlarmName !== undefined && states.has(alarm.AlarmName)) {
                states.set(alarm.AlarmName, toAlarmState(alarm.StateValue));
              }
            }
          }
        } catch (error) {
          throw new AwsCallError("DescribeAlarms", error);
        }
      }
      return states;
    },
  };
}
