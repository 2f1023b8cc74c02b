/**
 * Executes a stage step: copy one version from the source account. Fresh GetFunction there (the
 * source alias must still serve the planned CodeSha256), download and verify, update $LATEST here
 * (skipped when it already has the code: crash recovery), publish guarded by CodeSha256 and
 * RevisionId, create the version alias (an existing one is accepted only with the same code).
 */
import { DEFAULT_WAIT, waitForUpdate } from "../aws/wait.ts";
import type { Logger } from "../core/log.ts";
import type { FunctionState } from "../observe/state.ts";
import type { LatestGuard, StageStep } from "../plan/steps.ts";
import {
  ConcurrentChange,
  createVersionAlias,
  publishChecked,
  retry,
  StepFailure,
  type StepDeps,
} from "./execution.ts";
import { transferWeight } from "./transfer-budget.ts";

/** Direct upload (ZipFile) limit of UpdateFunctionCode; larger packages go through S3. */
export const DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024;
/** Lambda's unzipped limit bounds any zipped package too. */
export const STAGED_UPLOAD_LIMIT = 250 * 1024 * 1024;

export interface StageOutcome {
  /** The function version now behind the version alias. */
  functionVersion: string;
  /** True when the version alias already existed with the same code (nothing published). */
  reused: boolean;
  /** $LATEST after this step: the guard of the next stage step of the same function. */
  latest: LatestGuard;
}

export async function stage(
  name: string,
  step: StageStep,
  latest: LatestGuard,
  deps: StepDeps,
  log: Logger,
): Promise<StageOutcome> {
  const { target } = deps;
  const wait = deps.wait ?? DEFAULT_WAIT;
  if (!deps.source) throw new StepFailure("no source account is configured");
  const source = deps.source;
  const src = await retry(deps, log, "source:GetFunction", () => source.reader.getFunction(name, step.alias));
  if (!src) throw new ConcurrentChange(`version alias "${step.alias}" disappeared from the source account`);
  if (src.codeSha256 !== step.source.codeSha256) {
    throw new ConcurrentChange(`version alias "${step.alias}" in the source account now points at different code`);
  }
  if (src.packageType === "Image")
    throw new StepFailure(`version ${step.version} is image-packaged in the source account`);

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
    log.info("code updated", { version: step.version, codeSha256: updated.codeSha256 });
    state = await waitForUpdate(target, name, undefined, wait);
  } else {
    log.info("code already on $LATEST; not uploading again", { version: step.version });
  }
  if (state.runtime !== src.runtime || state.handler !== src.handler) {
    const revisionId = state.revisionId;
    await retry(deps, log, "UpdateFunctionConfiguration", () =>
      target.updateFunctionConfiguration(name, { runtime: src.runtime, handler: src.handler, revisionId }),
    );
    state = await waitForUpdate(target, name, undefined, wait);
  }

  const description =
    `lambda-gitops ${step.version} from ${step.source.account} v${src.functionVersion} sha256:${src.codeSha256}`.slice(
      0,
      256,
    );
  const functionVersion = await publishChecked(
    name,
    { codeSha256: src.codeSha256, revisionId: state.revisionId, description },
    deps,
    log,
  );
  log.info("version published", { version: step.version, functionVersion });

  const aliased = await createVersionAlias(
    name,
    { version: step.version, alias: step.alias, functionVersion, codeSha256: src.codeSha256 },
    deps,
    log,
  );
  // $LATEST changed (new RevisionId): a second stage step of this function must read it again.
  const fresh = await target.getFunction(name);
  if (!fresh) throw new StepFailure(`${name} disappeared during the promotion`);
  return { ...aliased, latest: fresh };
}

async function fetchCode(
  name: string,
  src: FunctionState,
  deps: StepDeps,
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
