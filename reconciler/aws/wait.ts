/**
 * Waits for a function's update to finish, polling GetFunction (its own 100/s quota, so polling
 * never eats the 15/s control-plane budget the writes need). Our own poller, because the generated
 * Lambda waiters retry every error until they time out: here a terminal `Failed` status or a
 * non-retryable error (AccessDenied, not found...) ends the wait at once.
 *
 * The schedule (pollDelays): Lambda updates usually settle within seconds, so the first
 * `fastPhase` seconds poll every `minDelay` (a 3-second update is noticed within `minDelay` of its
 * end, instead of the 7-10 s the SDK waiter's randomised exponential back-off took); after that the
 * delay grows by half each poll up to `maxDelay`. One GetFunction per second per waiting function
 * at most: with the rate scheduler's 90/s budget, dozens of functions can wait at once.
 */
import type { FunctionState } from "../observe/state.ts";
import type { LambdaReader } from "./lambda.ts";
import { LambdaGitopsError } from "../core/errors.ts";
import { realSleep, type Sleep, UPDATE_IN_PROGRESS } from "./retry.ts";

export interface WaitOptions {
  /** Seconds between polls during the fast phase (and the smallest delay). */
  minDelay: number;
  /** Seconds: the longest delay between two polls. */
  maxDelay: number;
  /** Seconds: give up after this long. */
  maxWaitTime: number;
  /** Seconds of polling every `minDelay` before backing off (default 10). */
  fastPhase?: number;
  /** Injected for tests (a fake clock); default setTimeout. */
  sleep?: Sleep;
  /** Milliseconds since some origin; default Date.now. */
  now?: () => number;
  /**
   * Milliseconds this wait may still take (the time left before the deadline, less the reserve),
   * asked when the wait starts: the wait gives up after min(maxWaitTime, budget) with WaitOutOfTime.
   */
  budgetMs?: () => number;
}

export const DEFAULT_WAIT: WaitOptions = { minDelay: 1, maxDelay: 5, maxWaitTime: 300, fastPhase: 10 };

export class UpdateFailedError extends LambdaGitopsError {}
/** The wait stopped because its time budget (the deadline), not maxWaitTime, ran out: hand over. */
export class WaitOutOfTime extends LambdaGitopsError {}

/**
 * The delay (ms) before poll number `poll` (1 = the first poll after the immediate one), given the
 * time already waited. Pure.
 */
export function pollDelay(poll: number, waitedMs: number, options: WaitOptions): number {
  const min = options.minDelay * 1000;
  const max = Math.max(min, options.maxDelay * 1000);
  const fast = (options.fastPhase ?? 10) * 1000;
  if (waitedMs < fast) return min;
  const slowPolls = poll - Math.ceil(fast / min);
  return Math.min(max, Math.round(min * 1.5 ** Math.max(1, slowPolls)));
}

/** Resolves with the function's state once its last update succeeded and it is not Pending. */
export async function waitForUpdate(
  reader: LambdaReader,
  functionName: string,
  qualifier: string | undefined,
  options: WaitOptions = DEFAULT_WAIT,
): Promise<FunctionState> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const started = now();
  const maxMs = options.maxWaitTime * 1000;
  const budget = options.budgetMs?.();
  const bounded = budget !== undefined && budget < maxMs;
  const deadline = started + (bounded ? Math.max(0, budget) : maxMs);
  for (let poll = 0; ; poll++) {
    if (poll > 0) {
      const left = deadline - now();
      if (left <= 0) break;
      await sleep(Math.min(pollDelay(poll, now() - started, options), left));
    }
    let state: FunctionState | undefined;
    try {
      state = await reader.getFunction(functionName, qualifier);
    } catch (error) {
      if (UPDATE_IN_PROGRESS.retryable(error)) continue;
      throw error;
    }
    if (!state) throw new UpdateFailedError(`${functionName} disappeared while waiting for its update`);
    if (state.lastUpdateStatus === "Failed" || state.state === "Failed") {
      const reason = state.lastUpdateStatusReason ?? "no reason given";
      throw new UpdateFailedError(`the update of ${functionName} failed: ${reason}`);
    }
    const settled = state.lastUpdateStatus === undefined || state.lastUpdateStatus === "Successful";
    if (settled && state.state !== "Pending") return state;
  }
  if (bounded) {
    throw new WaitOutOfTime(
      `handed over to the next round: ${functionName} was still updating when the time left before the deadline ran out (${Math.round(Math.max(0, budget) / 1000)} s)`,
    );
  }
  throw new UpdateFailedError(`${functionName} was still updating after ${options.maxWaitTime} s`);
}
