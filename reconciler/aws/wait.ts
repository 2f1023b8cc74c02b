/**
 * Waits for a function's update to finish, polling GetFunction (its own 100/s quota, so polling
 * never eats the 15/s control-plane budget the writes need). Built on the SDK's waiter machinery
 * (backoff with jitter, max wait time) with our own acceptor, because the generated Lambda waiters
 * retry every error until they time out: here a terminal `Failed` status or a non-retryable error
 * (AccessDenied, not found...) ends the wait at once.
 */
import { createWaiter, WaiterState } from "@smithy/util-waiter";
import type { FunctionState } from "../observe/state.ts";
import type { LambdaReader } from "./lambda.ts";
import { LambdaGitopsError } from "../core/errors.ts";
import { UPDATE_IN_PROGRESS } from "./retry.ts";

export interface WaitOptions {
  /** Seconds. */
  minDelay: number;
  maxDelay: number;
  maxWaitTime: number;
}

export const DEFAULT_WAIT: WaitOptions = { minDelay: 1, maxDelay: 10, maxWaitTime: 300 };

export class UpdateFailedError extends LambdaGitopsError {}

/** Resolves with the function's state once its last update succeeded and it is not Pending. */
export async function waitForUpdate(
  reader: LambdaReader,
  functionName: string,
  qualifier: string | undefined,
  options: WaitOptions = DEFAULT_WAIT,
): Promise<FunctionState> {
  let last: FunctionState | undefined;
  const result = await createWaiter(
    { client: reader, ...options },
    { functionName, qualifier },
    async (client) => {
      let state: FunctionState | undefined;
      try {
        state = await client.getFunction(functionName, qualifier);
      } catch (error) {
        if (UPDATE_IN_PROGRESS.retryable(error)) return { state: WaiterState.RETRY, reason: error };
        throw error;
      }
      if (!state) throw new UpdateFailedError(`${functionName} disappeared while waiting for its update`);
      last = state;
      if (state.lastUpdateStatus === "Failed" || state.state === "Failed")
        return { state: WaiterState.FAILURE };
      const settled = state.lastUpdateStatus === undefined || state.lastUpdateStatus === "Successful";
      return settled && state.state !== "Pending"
        ? { state: WaiterState.SUCCESS }
        : { state: WaiterState.RETRY };
    },
  );
  if (result.state === WaiterState.SUCCESS && last) return last;
  if (result.state === WaiterState.FAILURE) {
    const reason = last?.lastUpdateStatusReason ?? "no reason given";
    throw new UpdateFailedError(`the update of ${functionName} failed: ${reason}`);
  }
  throw new UpdateFailedError(`${functionName} was still updating after ${options.maxWaitTime} s`);
}
