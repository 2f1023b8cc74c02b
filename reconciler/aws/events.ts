/**
 * Thin adapter over @aws-sdk/client-eventbridge's PutEvents: one event on the default bus. PutEvents
 * answers 200 even when an entry was refused (FailedEntryCount > 0): that is thrown too.
 */
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AwsCallError, LambdaGitopsError } from "../core/errors.ts";

export interface EventPublisher {
  put(input: { source: string; detailType: string; detail: unknown; resources?: string[] }): Promise<string>;
}

export function createEventPublisher(client = new EventBridgeClient({ maxAttempts: 5 })): EventPublisher {
  return {
    async put({ source, detailType, detail, resources }) {
      let out;
      try {
        out = await client.send(
          new PutEventsCommand({
            Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail), Resources: resources }],
          }),
        );
      } catch (error) {
        throw new AwsCallError("PutEvents", error);
      }
      const entry = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
        throw new LambdaGitopsError(
          `PutEvents refused the event: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim(),
        );
      }
      return entry.EventId;
    },
  };
}
