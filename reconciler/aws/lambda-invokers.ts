/**
 * What invokes a function's versions besides its aliases, for pruning (issue 20): its event-source
 * mappings (ListEventSourceMappings by FunctionName; a mapping names the function, a version or an
 * alias in its FunctionArn) and its provisioned-concurrency configurations
 * (ListProvisionedConcurrencyConfigs; each names a version or an alias). Lambda does not refuse to
 * delete a version a mapping invokes, so pruning must know them. Both are paged; any failure
 * throws (the prune observation then fails, and nothing of that function is deleted).
 */
import {
  type LambdaClient,
  paginateListEventSourceMappings,
  paginateListProvisionedConcurrencyConfigs,
} from "@aws-sdk/client-lambda";
import { AwsCallError } from "../core/errors.ts";
import type { EventSourceMappingSummary } from "../observe/state.ts";
import { isNotFound } from "./lambda.ts";

export interface InvokersReader {
  /** Every event-source mapping of the function (any qualifier); [] when the function is gone. */
  listEventSourceMappings(functionName: string): Promise<EventSourceMappingSummary[]>;
  /** The FunctionArn of every provisioned-concurrency configuration (qualified); [] when the function is gone. */
  listProvisionedConcurrency(functionName: string): Promise<string[]>;
}

async function emptyOnNotFound<T>(operation: string, call: () => Promise<T[]>): Promise<T[]> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw new AwsCallError(operation, error);
  }
}

export function createInvokersReader(client: LambdaClient): InvokersReader {
  return {
    listEventSourceMappings: (functionName) =>
      emptyOnNotFound("ListEventSourceMappings", async () => {
        const mappings: EventSourceMappingSummary[] = [];
        for await (const page of paginateListEventSourceMappings({ client, pageSize: 100 }, { FunctionName: functionName })) {
          for (const m of page.EventSourceMappings ?? []) {
            mappings.push({ uuid: m.UUID ?? "", functionArn: m.FunctionArn ?? "", state: m.State ?? "" });
          }
        }
        return mappings;
      }),
    listProvisionedConcurrency: (functionName) =>
      emptyOnNotFound("ListProvisionedConcurrencyConfigs", async () => {
        const arns: string[] = [];
        for await (const page of paginateListProvisionedConcurrencyConfigs(
          { client, pageSize: 50 },
          { FunctionName: functionName },
        )) {
          for (const c of page.ProvisionedConcurrencyConfigs ?? []) arns.push(c.FunctionArn ?? "");
        }
        return arns;
      }),
  };
}
