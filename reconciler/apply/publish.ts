/**
 * Executes publish plans (plan/publish.ts) in the account of the current credentials: exactly the
 * steps the plan lists, in order, each write guarded (RevisionId; CodeSha256 on PublishVersion and
 * checked on UpdateFunctionCode's answer). Many functions run concurrently (p-limit), all through
 * the same Lambda client and therefore the same per-account quota scheduler (aws/clients.ts).
 * Each function settles into a result value; one failure never stops the others.
 *
 * A concurrent change (PreconditionFailedException, or a CodeSha256 mismatch on PublishVersion)
 * makes that function re-observe and re-plan once; a crash half-way is finished by re-running the
 * same command, because the planner leaves out what is already done.
 */
import pLimit from "p-limit";
import type { LambdaWriter } from "../aws/lambda.ts";
import type { Sleep } from "../aws/retry.ts";
import { DEFAULT_WAIT, type WaitOptions, waitForUpdate } from "../aws/wait.ts";
import { describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { PublishPlanEntry, PublishStep } from "../plan/publish.ts";
import { createVersionAlias, publishChecked, replanOnce, retry, StepFailure, type WriteDeps } from "./execution.ts";

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

export async function applyPublishPlan(
  entries: readonly PublishPlanEntry[],
  deps: PublishDeps,
): Promise<PublishResult[]> {
  const limit = pLimit(deps.concurrency);
  return Promise.all(entries.map((entry) => limit(() => applyPublish(entry, deps))));
}

export async function applyPublish(entry: PublishPlanEntry, deps: PublishDeps): Promise<PublishResult> {
  const log = deps.logger.child({ function: entry.function, version: entry.version });
  return replanOnce(
    entry,
    { name: entry.function, log, replan: deps.replan },
    (current, currentLog) => execute(current, deps, currentLog),
    (current, error) => failed(current, error, log),
  );
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
      if (run.functionVersion === undefined) throw new StepFailure("the plan published no version");
      return result(entry, "published", run.functionVersion);
    }
  }
}

/** Runs one step; `run` carries the RevisionId that guards the next write and the published version. */
async function runStep(
  entry: PublishPlanEntry,
  step: PublishStep,
  run: { revisionId: string; functionVersion: string | undefined },
  deps: PublishDeps,
  log: Logger,
): Promise<void> {
  const { lambda } = deps;
  const writes: WriteDeps = { target: lambda, sleep: deps.sleep, wait: deps.wait };
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
        throw new StepFailure(
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
      run.functionVersion = await publishChecked(
        name,
        { codeSha256: step.codeSha256, revisionId, description: step.description },
        writes,
        log,
      );
      log.info("version published", { functionVersion: run.functionVersion });
      return;
    }
    case "create-alias": {
      if (run.functionVersion === undefined) throw new StepFailure("no version to alias");
      const target = {
        version: entry.version,
        alias: step.alias,
        functionVersion: run.functionVersion,
        codeSha256: entry.codeSha256,
      };
      run.functionVersion = (await createVersionAlias(name, target, writes, log)).functionVersion;
      log.info("version alias in place", { alias: step.alias, functionVersion: run.functionVersion });
      return;
    }
  }
}
