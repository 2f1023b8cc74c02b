/**
 * Thin adapter over @aws-sdk/client-cloudwatch's PutMetricData, for the drift check's metric (how
 * many functions drifted, by pipeline). Alarms are read elsewhere (aws/cloudwatch.ts, rollouts).
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { AwsCallError } from "../core/errors.ts";

export const DRIFT_NAMESPACE = "LambdaGitops";
export const DRIFT_METRIC = "DriftedFunctions";

export interface MetricsPublisher {
  /** One datapoint of `DriftedFunctions` (Count) with dimension `Pipeline`. */
  putDriftedFunctions(input: { namespace: string; pipeline: string; count: number; at: Date }): Promise<void>;
}

export function createMetricsPublisher(client = new CloudWatchClient({ maxAttempts: 5 })): MetricsPublisher {
  return {
    async putDriftedFunctions({ namespace, pipeline, count, at }) {
      try {
        await client.send(
          new PutMetricDataCommand({
            Namespace: namespace,
            MetricData: [
              {
                MetricName: DRIFT_METRIC,
                Dimensions: [{ Name: "Pipeline", Value: pipeline }],
                Timestamp: at,
                Value: count,
                Unit: "Count",
              },
            ],
          }),
        );
      } catch (error) {
        throw new AwsCallError("PutMetricData", error);
      }
    },
  };
}
