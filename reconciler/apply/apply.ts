/**
 * The executor: turns plan entries into changes in the target account, one function at a time per
 * task, concurrently (p-limit). Each task settles into a result value: one function's failure never
 * cancels another's. Every write is guarded (RevisionId; CodeSha256 on publish), and a concurrent
 * change (PreconditionFailedException, or the source alias moving since planning) makes that one
 * function re-observe and re-plan once before it gives up with a clear message.
 *
 * Idempotent by construction: a plan made right after a successful run is all `noop`, so a second
 * run makes no mutating call; a run killed half-way leaves state the next plan picks up (code
 * already on $LATEST is not uploaded again, an existing version alias with the same code is kept).
 */
import pLimit from "p-limit";
import type { Downloader } from "../aws/download.ts";
import type { FunctionState, LambdaWriter } from "../aws/lambda.ts";
import { describeError, LambdaGitopsError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { SourceAccount } from "../observe/observe.ts";
import {
  desiredRouting,
  type Plan,
  type PlanEntry,
  type Promotion,
  type Routing,
  sameRouting,
} from "../plan/plan.ts";
import { errorName, realSleep, type Sleep, UPDATE_IN_PROGRESS, withRetry } from "../aws/retry.ts";
import { type TransferBudget, transferWeight } from "./transfer-budget.ts";
import { DEFAULT_WAIT, type WaitOptions, waitForUpdate } from "../aws/wait.ts";

/** Direct upload (ZipFile) limit of UpdateFunctionCode; larger packages go through S3. */
export const DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024;
/** Lambda's unzipped limit bounds any zipped package too. */
export const STAGED_UPLOAD_LIMIT = 250 * 1024 * 1024;

export type ApplyStatus = "unchanged" | "applied" | "failed" | "skipped";

export interface FunctionResult {
  name: string;
  /** The entry that was executed (the re-planned one after a concurrent change). */
  entry: PlanEntry;
  status: ApplyStatus;
  /** The version LIVE routes its primary traffic to after this run, when known. */
  functionVersion: string | null;
  /** Versions published by this run (semver -> function version). */
  published: Record<string, string>;
  error?: string;
}

export interface ApplyReport {
  liveAlias: string;
  results: FunctionResult[];
}

/** Uploads a package too large for a direct upload to the staging bucket. */
export interface Stager {
  stage(
    functionName: string,
    codeSha256: string,
    bytes: Uint8Array,
  ): Promise<{ bucket: string; key: string }>;
}

export interface ApplyDeps {
  target: LambdaWriter;
  source: SourceAccount | undefined;
  liveAlias: string;
  concurrency: number;
  download: Downloader;
  /** Re-observe and re-plan one function (after a concurrent change). */
  replan: (name: string) => Promise<PlanEntry>;
  stager?: Stager;
  /** Checked before each function starts: false stops starting new work (Lambda deadline). */
  canStart?: () => boolean;
  logger: Logger;
  sleep?: Sleep;
  wait?: WaitOptions;
  /** Bounds the package bytes held between download and upload, across all functions. */
  transfer?: TransferBudget;
  /** Told as each function finishes (the CLI's progress). */
  onResult?: (result: FunctionResult) => void;
}

/** Someone changed the function (or the source version) since it was observed. */
class ConcurrentChange extends LambdaGitopsError {}
/** This function cannot be finished; the message says why. */
class StepFailure extends LambdaGitopsError {}

function isConcurrentChange(error: unknown): boolean {
  if (error instanceof ConcurrentChange) return true;
  const name = errorName(error);
  if (name === "PreconditionFailedException") return true;
  // A CodeSha256 precondition on PublishVersion fails with InvalidParameterValueException (400).
  return name === "InvalidParameterValueException" && /CodeSHA256/i.test((error as Error).message ?? "");
}

export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyReport> {
  const limit = pLimit(deps.concurrency);
  const results = await Promise.all(
    plan.entries.map((entry) =>
      limit(async () => {
        const result = await applyFunction(entry, deps);
        deps.onResult?.(result);
        return result;
      }),
    ),
  );
  return { liveAlias: plan.liveAlias, results };
}

export async function applyFunction(entry: PlanEntry, deps: ApplyDeps): Promise<FunctionResult> {
  if (deps.canStart && !deps.canStart() && entry.action.kind !== "noop" && entry.action.kind !== "blocked") {
    return {
      name: entry.name,
      entry,
      status: "skipped",
      functionVersion: entry.live.functionVersion,
      published: {},
    };
  }
  const log = deps.logger.child({ function: entry.name, action: entry.action.kind });
  try {
    return await execute(entry, deps, log);
  } catch (error) {
    if (!isConcurrentChange(error)) return failed(entry, error, log);
    log.warn("changed concurrently; re-planning once", { error: describeError(error) });
    let fresh: PlanEntry;
    try {
      fresh = await deps.replan(entry.name);
    } catch (replanError) {
      return failed(
        entry,
        new StepFailure(`re-plan after a concurrent change failed: ${describeError(replanError)}`),
        log,
      );
    }
    try {
      return await execute(fresh, deps, log.child({ action: fresh.action.kind, replanned: true }));
    } catch (second) {
      const message = isConcurrentChange(second)
        ? `"${entry.name}" was changed by someone else while this run applied it, twice in a row; re-run once the other deployment has finished (${describeError(second)})`
        : describeError(second);
      return failed(fresh, new StepFailure(message), log);
    }
  }
}

function failed(entry: PlanEntry, error: unknown, log: Logger): FunctionResult {
  const message = error instanceof StepFailure ? error.message : describeError(error);
  log.error("failed", { error: message });
  return {
    name: entry.name,
    entry,
    status: "failed",
    functionVersion: entry.live.functionVersion,
    published: {},
    error: message,
  };
}

async function execute(entry: PlanEntry, deps: ApplyDeps, log: Logger): Promise<FunctionResult> {
  const { action } = entry;
  const result = (
    status: ApplyStatus,
    functionVersion: string | null,
    published: Record<string, string> = {},
  ) => ({
    name: entry.name,
    entry,
    status,
    functionVersion,
    published,
  });
  switch (action.kind) {
    case "noop":
      return result("unchanged", action.routing.functionVersion);
    case "blocked":
      throw new StepFailure(action.reason);
    case "rollback":
    case "rollforward":
      await setLive(entry, action.routing, deps, log);
      return result("applied", action.routing.functionVersion);
    case "promote": {
      const resolved: Record<string, string> = { ...action.present };
      const published: Record<string, string> = {};
      let guard: LatestGuard = action.latest;
      for (const promotion of action.promotions) {
        const outcome = await promote(entry.name, promotion, guard, deps, log);
        resolved[promotion.version] = outcome.functionVersion;
        published[promotion.version] = outcome.functionVersion;
        guard = outcome.latest;
      }
      const routing = desiredRouting(entry.desired, (v) => resolved[v] ?? "");
      await setLive(entry, routing, deps, log);
      return result("applied", routing.functionVersion, published);
    }
  }
}

type LatestGuard = Pick<FunctionState, "revisionId" | "codeSha256" | "runtime" | "handler" | "architectures">;

const retry = <T>(deps: ApplyDeps, log: Logger, step: string, call: () => Promise<T>) =>
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

/**
 * Copy one version from the source account: fresh GetFunction there, download and verify, update
 * $LATEST here (skipped when it already has the code: crash recovery), publish, alias.
 */
async function promote(
  name: string,
  promotion: Promotion,
  latest: LatestGuard,
  deps: ApplyDeps,
  log: Logger,
): Promise<{ functionVersion: string; latest: LatestGuard }> {
  const { target } = deps;
  const wait = deps.wait ?? DEFAULT_WAIT;
  if (!deps.source) throw new StepFailure("no source account is configured");
  const source = deps.source;
  const src = await retry(deps, log, "source:GetFunction", () =>
    source.reader.getFunction(name, promotion.alias),
  );
  if (!src)
    throw new ConcurrentChange(`version alias "${promotion.alias}" disappeared from the source account`);
  if (src.codeSha256 !== promotion.codeSha256) {
    throw new ConcurrentChange(
      `version alias "${promotion.alias}" in the source account now points at different code`,
    );
  }
  if (src.packageType === "Image")
    throw new StepFailure(`version ${promotion.version} is image-packaged in the source account`);

  let state: LatestGuard = latest;
  const sameArchitecture = latest.architectures.join() === src.architectures.join();
  if (latest.codeSha256 !== src.codeSha256 || !sameArchitecture) {
    // Download -> upload holds the package in memory: within the transfer budget.
    const transfer = async () => {
      const code = await fetchCode(name, src, deps);
      return retry(deps, log, "UpdateFunctionCode", () =>
        target.updateFunctionCode(name, {
          ...code,
          architectures: src.architectures,
          revisionId: latest.revisionId,
        }),
      );
    };
    const updated = deps.transfer
      ? await deps.transfer.run(transferWeight(src.codeSize), transfer)
      : await transfer();
    log.info("code updated", { version: promotion.version, codeSha256: updated.codeSha256 });
    state = await waitForUpdate(target, name, undefined, wait);
  } else {
    log.info("code already on $LATEST; not uploading again", { version: promotion.version });
  }
  if (state.runtime !== src.runtime || state.handler !== src.handler) {
    const revisionId = state.revisionId;
    await retry(deps, log, "UpdateFunctionConfiguration", () =>
      target.updateFunctionConfiguration(name, { runtime: src.runtime, handler: src.handler, revisionId }),
    );
    state = await waitForUpdate(target, name, undefined, wait);
  }

  const description =
    `lambda-gitops ${promotion.version} from ${promotion.sourceAccount} v${src.functionVersion} sha256:${src.codeSha256}`.slice(
      0,
      256,
    );
  const revisionId = state.revisionId;
  const published = await retry(deps, log, "PublishVersion", () =>
    target.publishVersion(name, { codeSha256: src.codeSha256, revisionId, description }),
  );
  if (published.codeSha256 !== src.codeSha256 || !/^[0-9]+$/.test(published.functionVersion)) {
    throw new StepFailure(
      `published version ${published.functionVersion} has CodeSha256 ${published.codeSha256}, expected ${src.codeSha256}`,
    );
  }
  if (published.state === "Pending") await waitForUpdate(target, name, published.functionVersion, wait);
  log.info("version published", { version: promotion.version, functionVersion: published.functionVersion });

  const functionVersion = await createVersionAlias(
    name,
    promotion,
    published.functionVersion,
    src.codeSha256,
    deps,
    log,
  );
  // $LATEST changed (new RevisionId): a second promotion of this function must read it again.
  const fresh = await target.getFunction(name);
  if (!fresh) throw new StepFailure(`${name} disappeared during the promotion`);
  return { functionVersion, latest: fresh };
}

async function fetchCode(
  name: string,
  src: FunctionState,
  deps: ApplyDeps,
): Promise<{ zipFile: Uint8Array } | { s3: { bucket: string; key: string } }> {
  if (src.codeSize > DIRECT_UPLOAD_LIMIT && !deps.stager) {
    throw new StepFailure(
      `package is ${src.codeSize} bytes, over the ${DIRECT_UPLOAD_LIMIT}-byte direct upload limit; configure a stagingBucket to promote it through S3`,
    );
  }
  if (!src.codeLocation) throw new StepFailure("the source account returned no code location");
  const maxBytes = deps.stager ? STAGED_UPLOAD_LIMIT : DIRECT_UPLOAD_LIMIT;
  const downloaded = await deps.download(src.codeLocation, { codeSha256: src.codeSha256, maxBytes });
  if (!downloaded.ok) throw new StepFailure(downloaded.message);
  if (downloaded.bytes.byteLength > DIRECT_UPLOAD_LIMIT && deps.stager) {
    return { s3: await deps.stager.stage(name, src.codeSha256, downloaded.bytes) };
  }
  return { zipFile: downloaded.bytes };
}

/** Create the version alias; if it appeared meanwhile, accept it only when it serves the same code. */
async function createVersionAlias(
  name: string,
  promotion: Promotion,
  functionVersion: string,
  codeSha256: string,
  deps: ApplyDeps,
  log: Logger,
): Promise<string> {
  const { target } = deps;
  try {
    await retryCreate(deps, log, () =>
      target.createAlias(name, promotion.alias, {
        functionVersion,
        weights: {},
        description: `lambda-gitops: semantic version ${promotion.version}`,
      }),
    );
    return functionVersion;
  } catch (error) {
    if (errorName(error) !== "ResourceConflictException") throw error;
  }
  const existing = await target.getAlias(name, promotion.alias);
  if (!existing)
    throw new ConcurrentChange(`version alias "${promotion.alias}" conflicted but cannot be read`);
  const behind = await target.getFunction(name, existing.functionVersion);
  if (behind?.codeSha256 !== codeSha256) {
    throw new StepFailure(
      `version alias "${promotion.alias}" already exists here and points at version ${existing.functionVersion} with different code (${behind?.codeSha256 ?? "unknown"}); refusing to repoint LIVE to it`,
    );
  }
  log.info("version alias already existed with the same code; using it", {
    functionVersion: existing.functionVersion,
  });
  return existing.functionVersion;
}

/** CreateAlias answers 409 when the alias exists: that is not "update in progress", so no retry. */
function retryCreate<T>(deps: ApplyDeps, log: Logger, call: () => Promise<T>): Promise<T> {
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

/** Point LIVE at the routing (creating LIVE if needed), guarded by its RevisionId; read it back. */
async function setLive(entry: PlanEntry, routing: Routing, deps: ApplyDeps, log: Logger): Promise<void> {
  const { target, liveAlias } = deps;
  const current = { functionVersion: entry.live.functionVersion ?? "", weights: entry.live.weights };
  if (entry.live.exists && sameRouting(current, routing)) return;
  if (entry.live.exists && entry.live.revisionId !== null) {
    const revisionId = entry.live.revisionId;
    await retry(deps, log, "UpdateAlias", () =>
      target.updateAlias(entry.name, liveAlias, { ...routing, revisionId }),
    );
  } else {
    try {
      await retryCreate(deps, log, () => target.createAlias(entry.name, liveAlias, routing));
    } catch (error) {
      if (errorName(error) === "ResourceConflictException") {
        throw new ConcurrentChange(`the ${liveAlias} alias was created by someone else meanwhile`);
      }
      throw error;
    }
  }
  const readBack = await target.getAlias(entry.name, liveAlias);
  if (!readBack || !sameRouting(readBack, routing)) {
    throw new StepFailure(
      `${liveAlias} reads back as ${readBack ? `v${readBack.functionVersion} ${JSON.stringify(readBack.weights)}` : "missing"}, expected v${routing.functionVersion} ${JSON.stringify(routing.weights)}`,
    );
  }
  log.info("live alias moved", {
    fromFunctionVersion: entry.live.functionVersion,
    toFunctionVersion: routing.functionVersion,
    fromVersion: entry.live.version,
    toVersion: entry.desired.version,
  });
}
