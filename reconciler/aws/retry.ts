/**
 * Narrow, capped, named retries for what the SDK does not retry itself: Lambda's 409
 * ResourceConflictException ("an update is in progress"). Throttles are retried by the SDK first
 * (standard mode honours Retry-After); when they still surface, this policy waits longer.
 * Anything else is not retried here.
 */
import { errorName } from "../core/errors.ts";

/** Re-exported for apply/ (lead: import it from core/errors.ts there, then drop this line). */

export interface RetryPolicy {
  name: string;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  retryable: (error: unknown) => boolean;
}

const RETRYABLE = new Set(["ResourceConflictException", "TooManyRequestsException", "ThrottlingException"]);

/** An update is in progress or the account is throttled: wait and try the same call again. */
export const UPDATE_IN_PROGRESS: RetryPolicy = {
  name: "update-in-progress",
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 15000,
  retryable: (error) => RETRYABLE.has(errorName(error)),
};

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(
  policy: RetryPolicy,
  call: () => Promise<T>,
  options: {
    sleep?: Sleep;
    onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
    random?: () => number;
  } = {},
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !policy.retryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      options.onRetry?.(attempt, error, delay);
      await sleep(delay);
    }
  }
}
