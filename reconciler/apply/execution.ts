/**
 * What every step's execution shares: its dependencies, the two ways a step fails (a concurrent
 * change, which re-plans, or a failure of this function), and the named retry policies.
 */
import type { Downloader } from "../aws/download.ts";
import type { LambdaWriter } from "../aws/lambda.ts";
import { realSleep, type Sleep, UPDATE_IN_PROGRESS, withRetry } from "../aws/retry.ts";
import { errorName } from "../core/errors.ts";
import type { WaitOptions } from "../aws/wait.ts";
import { LambdaGitopsError, toError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { SourceAccount } from "../observe/observe.ts";
import type { RolloutRunDeps } from "./rollout.ts";
import type { TransferBudget } from "./transfer-budget.ts";

/** Uploads a package too large for a direct upload to the staging bucket. */
export interface Stager {
  stage(
    functionName: string,
    codeSha256: string,
    bytes: Uint8Array,
  ): Promise<{ bucket: string; key: string }>;
}

export interface StepDeps {
  target: LambdaWriter;
  source: SourceAccount | undefined;
  download: Downloader;
  stager?: Stager;
  sleep?: Sleep;
  wait?: WaitOptions;
  /** Bounds the package bytes held between download and upload, across all functions. */
  transfer?: TransferBudget;
  /** How rollout steps run (clock, alarms, deadline, --no-wait); defaults: real clock, no alarms reader. */
  rollouts?: RolloutRunDeps;
}

/** Someone changed the function (or the source version) since it was observed. */
export class ConcurrentChange extends LambdaGitopsError {}
/** This function cannot be finished; the message says why. */
export class StepFailure extends LambdaGitopsError {}

export function isConcurrentChange(error: unknown): boolean {
  if (error instanceof ConcurrentChange) return true;
  const name = errorName(error);
  if (name === "PreconditionFailedException") return true;
  // A CodeSha256 precondition on PublishVersion fails with InvalidParameterValueException (400).
  return name === "InvalidParameterValueException" && /CodeSHA256/i.test(toError(error).message);
}

/** One write, retried while an update is in progress or the account is throttled. */
export const retry = <T>(deps: StepDeps, log: Logger, step: string, call: () => Promise<T>) =>
  withRetry(UPDATE_IN_PROGRESS, call, {
    sleep: deps.sleep ?? realSleep,
    onRetry: (attempt, error, delayMs) =>
      log.warn("retrying", {
        step,
        attempt,
        delayMs,
        policy: UPDATE_IN_PROGRESS.name,
        error: errorName(error),
      }),
  });

/** CreateAlias answers 409 when the alias exists: that is not "update in progress", so only throttles are retried. */
export function retryThrottledCreate<T>(deps: StepDeps, log: Logger, call: () => Promise<T>): Promise<T> {
  return withRetry(
    { ...UPDATE_IN_PROGRESS, retryable: (e) => errorName(e) === "TooManyRequestsException" },
    call,
    {
      sleep: deps.sleep ?? realSleep,
      onRetry: (attempt, error) =>
        log.warn("retrying", { step: "CreateAlias", attempt, error: errorName(error) }),
    },
  );
}
