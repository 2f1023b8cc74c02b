/**
 * What every step's execution shares: its dependencies, the two ways a step fails (a concurrent
 * change, which re-plans, or a failure of this function), and the named retry policies.
 */
import type { Downloader } from "../aws/download.ts";
import type { LambdaWriter } from "../aws/lambda.ts";
import { realSleep, type Sleep, UPDATE_IN_PROGRESS, withRetry } from "../aws/retry.ts";
import { errorName } from "../core/errors.ts";
import { DEFAULT_WAIT, type WaitOptions, waitForUpdate } from "../aws/wait.ts";
import { describeError, LambdaGitopsError, toError } from "../core/errors.ts";
import type { LogFields, Logger } from "../core/log.ts";
import type { SourceAccount } from "../observe/observe.ts";
import { type FunctionState, isPublishedVersion } from "../observe/state.ts";
import type { AlarmReader } from "../aws/cloudwatch.ts";
import type { RolloutEvent } from "../plan/rollout.ts";
import type { Clock } from "./rollout-runner.ts";
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
  /** Milliseconds left before the invocation must report (absent: no deadline, e.g. the CLI). */
  timeLeftMs?: () => number;
}

/** How this run drives rollouts: the clock, how far it may go, who hears about each move. */
export interface RolloutRunDeps {
  alarms?: AlarmReader;
  clock?: Clock;
  /** Hand over before this time (ms): the Lambda deadline less a reserve (asked when a rollout starts). */
  deadline?: () => number;
  /** Make the next due move only (CLI --no-wait). */
  noWait?: boolean;
  /** false: continue rollouts only, never start one (a pipeline continuation after a rollout hand-over). */
  mayStart?: boolean;
  signal?: AbortSignal;
  onEvent?: (functionName: string, event: RolloutEvent) => void;
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
export function ensureTime(deps: Pick<StepDeps, "timeLeftMs">, neededMs: number, what: string): void {
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

/** What a write needs beyond the call itself (the stage steps' and `publish`'s dependencies both fit). */
export type WriteDeps = Pick<StepDeps, "target" | "sleep" | "wait" | "timeLeftMs">;

/** One write, retried while an update is in progress or the account is throttled. */
export const retry = <T>(deps: Pick<StepDeps, "sleep">, log: Logger, step: string, call: () => Promise<T>) =>
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
export function retryThrottledCreate<T>(
  deps: Pick<StepDeps, "sleep">,
  log: Logger,
  call: () => Promise<T>,
): Promise<T> {
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

/**
 * PublishVersion guarded by the CodeSha256 of the code meant and the RevisionId of $LATEST; the
 * answer must be a published version with that code (waited for while Pending). Used by the stage
 * step and by `publish`.
 */
export async function publishChecked(
  name: string,
  input: { codeSha256: string; revisionId: string; description: string },
  deps: WriteDeps,
  log: Logger,
): Promise<string> {
  const published = await retry(deps, log, "PublishVersion", () => deps.target.publishVersion(name, input));
  if (published.codeSha256 !== input.codeSha256 || !isPublishedVersion(published.functionVersion)) {
    throw new StepFailure(
      `published version ${published.functionVersion} has CodeSha256 ${published.codeSha256}, expected ${input.codeSha256}`,
    );
  }
  // Active before LIVE may point at it: also a version PublishVersion handed back unchanged.
  await untilActive(name, published, deps);
  return published.functionVersion;
}

/** A version may be pointed at only once Active: wait on Pending, fail on Failed. */
export async function untilActive(name: string, version: FunctionState, deps: WriteDeps): Promise<FunctionState> {
  if (version.state === "Failed") {
    throw new StepFailure(
      `version ${version.functionVersion} is Failed: ${version.lastUpdateStatusReason ?? "no reason given"}; LIVE is not moved to it`,
    );
  }
  if (version.state === "Active" || version.state === undefined) return version;
  ensureTime(deps, TIME_NEEDED_MS.wait, `waiting for version ${version.functionVersion} to become Active`);
  return waitForUpdate(deps.target, name, version.functionVersion, deps.wait ?? DEFAULT_WAIT);
}

/**
 * Create the version alias of `version`; if it appeared meanwhile, accept it only when the version
 * behind it serves the same code (semantic versions are immutable).
 */
export async function createVersionAlias(
  name: string,
  target: { version: string; alias: string; functionVersion: string; codeSha256: string },
  deps: WriteDeps,
  log: Logger,
): Promise<{ functionVersion: string; reused: boolean }> {
  const { alias, version, functionVersion, codeSha256 } = target;
  try {
    await retryThrottledCreate(deps, log, () =>
      deps.target.createAlias(name, alias, {
        functionVersion,
        weights: {},
        description: `lambda-gitops: semantic version ${version}`,
      }),
    );
    return { functionVersion, reused: false };
  } catch (error) {
    if (errorName(error) !== "ResourceConflictException") throw error;
  }
  const existing = await deps.target.getAlias(name, alias);
  if (!existing) throw new ConcurrentChange(`version alias "${alias}" conflicted but cannot be read`);
  const behind = await deps.target.getFunction(name, existing.functionVersion);
  if (behind?.codeSha256 !== codeSha256) {
    throw new StepFailure(
      `version alias "${alias}" already exists here and points at version ${existing.functionVersion} with different code (${behind?.codeSha256 ?? "unknown"}, not ${codeSha256}); semantic versions are immutable, so it is not used`,
    );
  }
  await untilActive(name, behind, deps);
  log.info("version alias already existed with the same code; using it", {
    functionVersion: existing.functionVersion,
  });
  return { functionVersion: existing.functionVersion, reused: true };
}

/**
 * Runs one function's work; on a concurrent change, re-observes and re-plans once and runs the
 * fresh entry; a second concurrent change (or any other error) becomes `failed(entry, error)`.
 */
export async function replanOnce<E, R>(
  entry: E,
  options: {
    name: string;
    log: Logger;
    replan: (entry: E) => Promise<E>;
    /** Fields for the log of the re-planned run. */
    replannedLog?: (fresh: E) => LogFields;
    onReplan?: () => void;
  },
  run: (entry: E, log: Logger) => Promise<R>,
  failed: (entry: E, error: unknown) => R,
): Promise<R> {
  const { log } = options;
  try {
    return await run(entry, log);
  } catch (error) {
    if (!isConcurrentChange(error)) return failed(entry, error);
    log.warn("changed concurrently; re-planning once", { error: describeError(error) });
    options.onReplan?.();
    let fresh: E;
    try {
      fresh = await options.replan(entry);
    } catch (replanError) {
      return failed(
        entry,
        new StepFailure(`re-plan after a concurrent change failed: ${describeError(replanError)}`),
      );
    }
    try {
      return await run(fresh, log.child({ ...options.replannedLog?.(fresh), replanned: true }));
    } catch (second) {
      if (!isConcurrentChange(second)) return failed(fresh, second);
      const message = `"${options.name}" was changed by someone else while this run applied it, twice in a row; re-run once the other deployment has finished (${describeError(second)})`;
      return failed(fresh, new StepFailure(message));
    }
  }
}
