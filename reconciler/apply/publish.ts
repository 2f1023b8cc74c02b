/**
 * Executes publish plans (plan/publish.ts) in the account of the current credentials: exactly the
 * steps the plan lists, in order, each write guarded (RevisionId; CodeSha256 on PublishVersion and
 * checked on UpdateFunctionCode's answer). Many functions run concurrently (p-limit), all through
 * the same Lambda client and therefore the same per-account quota scheduler (aws/context.ts).
 * Each function settles into a result value; one failure never stops the others.
 *
 * A concurrent change (PreconditionFailedException, or a CodeSha256 mismatch on PublishVersion)
 * makes that function re-observe and re-plan once; a crash half-way is finished by re-running the
 * same command, because the planner leaves out what is already done.
 */
import pLimit from "p-limit";
import type { FunctionState, LambdaWriter } from "../aws/lambda.ts";
import { errorName, realSleep, type Sleep, UPDATE_IN_PROGRESS, withRetry } from "../aws/retry.ts";
import { DEFAULT_WAIT, type WaitOptions, waitForUpdate } from "../aws/wait.ts";
import { describeError, LambdaGitopsError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { PublishPlanEntry, PublishStep } from "../plan/publish.ts";

export type PublishAction = "published" | "unchanged" | "refused" | "failed";

/** One function's outcome; `--format json` prints exactly these fields. */
export interface PublishResult {
  function: string;
  version: string;
  alias: string;
  /** The published version number behind the version alias (null when refused or failed early). */
  functionVersion: string | null;
  codeSha256: string;
  action: PublishAction;
  error?: string;
}

/** The package for UpdateFunctionCode: the verified bytes, or the S3 object Lambda reads. */
export type UploadCode = { zipFile: Uint8Array } | { s3: { bucket: string; key: string } };
export type PackageSource = (entry: PublishPlanEntry) => Promise<UploadCode>;

export interface PublishDeps {
  lambda: LambdaWriter;
  concurrency: number;
  /** Gives the package to upload (re-reading and re-verifying it: what is uploaded is what was hashed). */
  upload: PackageSource;
  /** Re-observe and re-plan one function after a concurrent change. */
  replan: (entry: PublishPlanEntry) => Promise<PublishPlanEntry>;
  logger: Logger;
  sleep?: Sleep;
  wait?: WaitOptions;
}

/** This function cannot be finished; the message says why. */
class PublishFailure extends LambdaGitopsError {}

function isConcurrentChange(error: unknown): boolean {
  const name = errorName(error);
  if (name === "PreconditionFailedException") return true;
  // A CodeSha256 precondition on PublishVersion fails with InvalidParameterValueException (400).
  return name === "InvalidParameterValueException" && /CodeSHA256/i.test(describeError(error));
}

export async function applyPublishPlan(
  entries: readonly PublishPlanEntry[],
  deps: PublishDeps,
): Promise<PublishResult[]> {
  const limit = pLimit(deps.concurrency);
  return Promise.all(entries.map((entry) => limit(() => applyPublish(entry, deps))));
}

export async function applyPublish(entry: PublishPlanEntry, deps: PublishDeps): Promise<PublishResult> {
  const log = deps.logger.child({ function: entry.function, version: entry.version });
  try {
    return await execute(entry, deps, log);
  } catch (error) {
    if (!isConcurrentChange(error)) return failed(entry, error, log);
    log.warn("changed concurrently; re-planning once", { error: describeError(error) });
    let fresh: PublishPlanEntry;
    try {
      fresh = await deps.replan(entry);
    } catch (replanError) {
      return failed(entry, new PublishFailure(`re-plan failed: ${describeError(replanError)}`), log);
    }
    try {
      return await execute(fresh, deps, log.child({ replanned: true }));
    } catch (second) {
      const message = isConcurrentChange(second)
        ? `"${entry.function}" was changed by someone else while this run published it, twice in a row; re-run once the other deployment has finished (${describeError(second)})`
        : describeError(second);
      return failed(fresh, new PublishFailure(message), log);
    }
  }
}

function result(entry: PublishPlanEntry, action: PublishAction, functionVersion: string | null): PublishResult {
  const { function: name, version, alias, codeSha256 } = entry;
  return { function: name, version, alias, functionVersion, codeSha256, action };
}

function failed(entry: PublishPlanEntry, error: unknown, log: Logger): PublishResult {
  const message = describeError(error);
  log.error("publish failed", { error: message });
  return { ...result(entry, "failed", null), error: message };
}

async function execute(entry: PublishPlanEntry, deps: PublishDeps, log: Logger): Promise<PublishResult> {
  const { decision } = entry;
  switch (decision.kind) {
    case "unchanged":
      log.info("already published", { functionVersion: decision.functionVersion });
      return result(entry, "unchanged", decision.functionVersion);
    case "refused":
      log.warn("refused", { code: decision.code });
      return { ...result(entry, "refused", null), error: decision.reason };
    case "publish": {
      const run = { revisionId: decision.revisionId, functionVersion: undefined as string | undefined };
      for (const step of decision.steps) await runStep(entry, step, run, deps, log);
      if (run.functionVersion === undefined) throw new PublishFailure("the plan published no version");
      return result(entry, "published", run.functionVersion);
    }
  }
}

const retry = <T>(deps: PublishDeps, log: Logger, step: string, call: () => Promise<T>) =>
  withRetry(UPDATE_IN_PROGRESS, call, {
    sleep: deps.sleep ?? realSleep,
    onRetry: (attempt, error, delayMs) =>
      log.warn("retrying", { step, attempt, delayMs, policy: UPDATE_IN_PROGRESS.name, error: errorName(error) }),
  });

/** Runs one step; `run` carries the RevisionId that guards the next write and the published version. */
async function runStep(
  entry: PublishPlanEntry,
  step: PublishStep,
  run: { revisionId: string; functionVersion: string | undefined },
  deps: PublishDeps,
  log: Logger,
): Promise<void> {
  const { lambda } = deps;
  const name = entry.function;
  const { revisionId } = run;
  switch (step.kind) {
    case "configure": {
      const state = await retry(deps, log, "UpdateFunctionConfiguration", () =>
        lambda.updateFunctionConfiguration(name, {
          runtime: step.runtime,
          handler: step.handler,
          layers: step.layers,
          revisionId,
        }),
      );
      run.revisionId = state.revisionId;
      log.info("configuration updated", { runtime: step.runtime, handler: step.handler });
      return;
    }
    case "update-code": {
      const code = await deps.upload(entry);
      const state = await retry(deps, log, "UpdateFunctionCode", () =>
        lambda.updateFunctionCode(name, { ...code, architectures: step.architectures, revisionId }),
      );
      if (state.codeSha256 !== step.codeSha256) {
        throw new PublishFailure(
          `$LATEST now has CodeSha256 ${state.codeSha256}, but the package hashed to ${step.codeSha256}: the package changed after it was hashed; nothing was published`,
        );
      }
      run.revisionId = state.revisionId;
      log.info("code updated", { codeSha256: state.codeSha256 });
      return;
    }
    case "wait": {
      const state = await waitForUpdate(lambda, name, undefined, deps.wait ?? DEFAULT_WAIT);
      run.revisionId = state.revisionId;
      return;
    }
    case "publish": {
      const published = await retry(deps, log, "PublishVersion", () =>
        lambda.publishVersion(name, { codeSha256: step.codeSha256, revisionId, description: step.description }),
      );
      checkPublished(published, step.codeSha256);
      if (published.state === "Pending")
        await waitForUpdate(lambda, name, published.functionVersion, deps.wait ?? DEFAULT_WAIT);
      run.functionVersion = published.functionVersion;
      log.info("version published", { functionVersion: published.functionVersion });
      return;
    }
    case "create-alias": {
      if (run.functionVersion === undefined) throw new PublishFailure("no version to alias");
      run.functionVersion = await createVersionAlias(entry, step.alias, run.functionVersion, deps, log);
      return;
    }
  }
}

function checkPublished(published: FunctionState, codeSha256: string): void {
  if (published.codeSha256 !== codeSha256 || !/^[0-9]+$/.test(published.functionVersion)) {
    throw new PublishFailure(
      `PublishVersion answered version ${published.functionVersion} with CodeSha256 ${published.codeSha256}, expected ${codeSha256}`,
    );
  }
}

/** Create the version alias; if it appeared meanwhile, accept it only when it serves the same code. */
async function createVersionAlias(
  entry: PublishPlanEntry,
  alias: string,
  functionVersion: string,
  deps: PublishDeps,
  log: Logger,
): Promise<string> {
  const { lambda } = deps;
  try {
    await withRetry(
      { ...UPDATE_IN_PROGRESS, retryable: (e) => errorName(e) === "TooManyRequestsException" },
      () =>
        lambda.createAlias(entry.function, alias, {
          functionVersion,
          weights: {},
          description: `lambda-gitops: semantic version ${entry.version}`,
        }),
      { sleep: deps.sleep ?? realSleep },
    );
    log.info("version alias created", { alias, functionVersion });
    return functionVersion;
  } catch (error) {
    if (errorName(error) !== "ResourceConflictException") throw error;
  }
  const existing = await lambda.getAlias(entry.function, alias);
  const behind = existing ? await lambda.getFunction(entry.function, existing.functionVersion) : undefined;
  if (!existing || behind?.codeSha256 !== entry.codeSha256) {
    throw new PublishFailure(
      `version alias "${alias}" was created by someone else meanwhile and points at ${existing ? `version ${existing.functionVersion} with CodeSha256 ${behind?.codeSha256 ?? "unknown"}` : "nothing readable"}, not at this package (${entry.codeSha256}); bump the version`,
    );
  }
  log.info("version alias already existed with the same code; using it", {
    functionVersion: existing.functionVersion,
  });
  return existing.functionVersion;
}
