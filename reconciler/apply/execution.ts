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
  /** Milliseconds left before the invocation must report (absent: no deadline, e.g. the CLI). */
  timeLeftMs?: () => number;
}

/** Time a step needs before it starts: a wait for an update, a package download. */
export const TIME_NEEDED_MS = { wait: 60_000, download: 120_000 } as const;

/**
 * The next step could not finish before the deadline: the function is handed over to the next
 * round (continuation token) instead of being cut off mid-step. Safe because every step is
 * idempotent and the next round re-observes (a run stopped half-way converges on re-run).
 */
export class HandOver extends LambdaGitopsError {}

/** Throws HandOver when less than `neededMs` is left before the deadline. */
export function ensureTime(deps: StepDeps, neededMs: number, what: string): void {
  const left = deps.timeLeftMs?.();
  if (left !== undefined && left < neededMs) {
    throw new HandOver(
      `handed over to the next round before ${what}: ${Math.max(0, Math.round(left / 1000))} s left, ${neededMs / 1000} s needed`,
    );
  }
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
