/**
 * Executes a stage step: copy one version from the source account. Fresh GetFunction there (the
 * source alias must still serve the planned CodeSha256); runtime and handler first when they differ
 * (UpdateFunctionConfiguration guarded by RevisionId, then wait: Lambda refuses code updates on a
 * deprecated runtime, while the configuration can still move it to a supported one); then download
 * and verify, update $LATEST here with the code and its architectures (skipped when it already has
 * them: crash recovery), wait; publish guarded by CodeSha256 and RevisionId and wait until the
 * version is Active (also when PublishVersion hands back an existing version); create the version
 * alias (an existing one is accepted only with the same code, once Active).
 */
import { downloadWithFreshLink } from "../aws/download.ts";
import { fitsDirectUpload, MAX_DIRECT_ZIP_BYTES } from "../aws/request-size.ts";
import { DEFAULT_WAIT, waitForUpdate } from "../aws/wait.ts";
import { describeError, kmsDenial } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { FunctionState } from "../observe/state.ts";
import type { LatestGuard, StageStep } from "../plan/steps.ts";
import {
  ConcurrentChange,
  createVersionAlias,
  ensureTime,
  publishChecked,
  retry,
  StepFailure,
  type StepDeps,
  TIME_NEEDED_MS,
} from "./execution.ts";
import { transferWeight } from "./transfer-budget.ts";

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
  const sourceKey: KmsNeed = {
    role: `the source role (SourceRoleArn, account ${source.accountId})`,
    actions: "kms:Decrypt",
    key: undefined,
    how: "infra/source-role.yaml parameter SourceCodeKmsKeyArns, and the key policy must allow the role",
  };
  const src = await explainKms(sourceKey, () =>
    retry(deps, log, "source:GetFunction", () => source.reader.getFunction(name, step.alias)),
  );
  if (!src) throw new ConcurrentChange(`version alias "${step.alias}" disappeared from the source account`);
  if (src.codeSha256 !== step.source.codeSha256) {
    throw new ConcurrentChange(`version alias "${step.alias}" in the source account now points at different code`);
  }
  if (src.packageType === "Image")
    throw new StepFailure(`version ${step.version} is image-packaged in the source account`);

  let state: LatestGuard = latest;
  // Configuration first: on a deprecated runtime Lambda refuses the code, not the configuration.
  if (state.runtime !== src.runtime || state.handler !== src.handler) {
    const revisionId = state.revisionId;
    await retry(deps, log, "UpdateFunctionConfiguration", () =>
      target.updateFunctionConfiguration(name, { runtime: src.runtime, handler: src.handler, revisionId }),
    );
    log.info("runtime and handler updated before the code", { runtime: src.runtime, handler: src.handler });
    ensureTime(deps, TIME_NEEDED_MS.wait, "waiting for the configuration update");
    state = await waitForUpdate(target, name, undefined, wait);
  }
  const sameArchitecture = state.architectures.join() === src.architectures.join();
  if (state.codeSha256 !== src.codeSha256 || !sameArchitecture) {
    const revisionId = state.revisionId;
    const fetchedAt = Date.now();
    // Download -> upload holds the package in memory: within the transfer budget.
    // The target's own customer-managed code key is kept: an update without SourceKMSKeyArn would
    // fall back to Lambda's key.
    const sourceKmsKeyArn = state.sourceKmsKeyArn;
    const transfer = async () => {
      ensureTime(deps, TIME_NEEDED_MS.download, "downloading the code");
      const code = await explainKms(sourceKey, () => fetchCode(name, step, src, fetchedAt, deps, log));
      log.info("code downloaded and verified", { version: step.version, bytes: src.codeSize });
      const targetKey: KmsNeed = {
        role: "the reconciler's execution role",
        actions: "s3" in code ? "kms:Decrypt (on the staging bucket's key) and kms:GenerateDataKey" : "kms:GenerateDataKey and kms:Decrypt",
        key: sourceKmsKeyArn,
        how: "the key policy of the function's code key must allow the role and Lambda; a staged package also needs StagingBucketKmsKeyArn in infra/reconciler.yaml",
      };
      return explainKms(targetKey, () =>
        retry(deps, log, "UpdateFunctionCode", () =>
          target.updateFunctionCode(name, {
            ...code,
            architectures: src.architectures,
            revisionId,
            ...(sourceKmsKeyArn ? { sourceKmsKeyArn } : {}),
          }),
        ),
      );
    };
    const updated = deps.transfer
      ? await deps.transfer.run(transferWeight(src.codeSize), transfer)
      : await transfer();
    log.info("code updated", { version: step.version, codeSha256: updated.codeSha256 });
    ensureTime(deps, TIME_NEEDED_MS.wait, "waiting for the code update");
    state = await waitForUpdate(target, name, undefined, wait);
  } else {
    log.info("code already on $LATEST; not uploading again", { version: step.version });
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

/** A code link older than this when the transfer starts is fetched again (it is valid 10 minutes). */
export const CODE_LINK_REUSE_MS = 60_000;

async function fetchCode(
  name: string,
  step: StageStep,
  src: FunctionState,
  fetchedAt: number,
  deps: StepDeps,
  log: Logger,
): Promise<{ zipFile: Uint8Array } | { s3: { bucket: string; key: string } }> {
  // Lambda limits the request (the zip base64-encoded), not the zip's bytes (request-size.ts).
  if (!fitsDirectUpload(src.codeSize) && !deps.stager) {
    throw new StepFailure(
      `package is ${src.codeSize} bytes, over the direct upload limit (${MAX_DIRECT_ZIP_BYTES} bytes: UpdateFunctionCode's request carries it base64-encoded); configure a stagingBucket to promote it through S3`,
    );
  }
  const maxBytes = deps.stager ? STAGED_UPLOAD_LIMIT : MAX_DIRECT_ZIP_BYTES;
  // The link is fetched when the transfer starts (a queued transfer must not hold an old one) and
  // once more on 403 (expired meanwhile); the source version must still serve the same code.
  let first = Date.now() - fetchedAt < CODE_LINK_REUSE_MS ? src.codeLocation : undefined;
  const fetchLink = async () => {
    if (first !== undefined) {
      const link = first;
      first = undefined;
      return link;
    }
    const fresh = await retry(deps, log, "source:GetFunction", () => deps.source!.reader.getFunction(name, step.alias));
    if (!fresh || fresh.codeSha256 !== src.codeSha256) {
      throw new ConcurrentChange(`version alias "${step.alias}" in the source account now points at different code`);
    }
    return fresh.codeLocation;
  };
  const downloaded = await downloadWithFreshLink(fetchLink, deps.download, { codeSha256: src.codeSha256, maxBytes });
  if (!downloaded.ok) throw new StepFailure(downloaded.message);
  if (!fitsDirectUpload(downloaded.bytes.byteLength) && deps.stager) {
    const stager = deps.stager;
    const stagingKey: KmsNeed = {
      role: "the reconciler's execution role",
      actions: "kms:GenerateDataKey",
      key: undefined,
      how: "infra/reconciler.yaml parameter StagingBucketKmsKeyArn: the staging bucket's default encryption key",
    };
    return { s3: await explainKms(stagingKey, () => stager.stage(name, src.codeSha256, downloaded.bytes)) };
  }
  return { zipFile: downloaded.bytes };
}

/** Who must be granted which KMS actions on which key, when a call is refused by KMS. */
interface KmsNeed {
  role: string;
  actions: string;
  /** The key, when known before the call (the error's own key ARN wins). */
  key: string | undefined;
  how: string;
}

/** Runs `call`; a KMS refusal fails the function naming the missing key and the role that needs it. */
async function explainKms<T>(need: KmsNeed, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const denial = kmsDenial(error);
    if (!denial) throw error;
    const key = denial.key ?? need.key ?? "the customer-managed KMS key (the error does not name it)";
    throw new StepFailure(
      `KMS refused a key: ${need.role} needs ${need.actions} on ${key} (${need.how}); ${describeError(error)}`,
    );
  }
}
