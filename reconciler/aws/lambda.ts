/**
 * Thin adapter over @aws-sdk/client-lambda, in domain terms. The only module that imports the
 * Lambda client. Only ResourceNotFoundException means "absent"; every other error is thrown as an
 * AwsCallError so that a throttle or an AccessDenied never looks like a missing alias.
 */
import {
  type AliasConfiguration,
  type Architecture,
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  type FunctionCodeLocation,
  type FunctionConfiguration,
  GetAliasCommand,
  GetCodeSigningConfigCommand,
  GetFunctionCodeSigningConfigCommand,
  GetFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  type LambdaClient,
  PublishVersionCommand,
  paginateListAliases,
  paginateListVersionsByFunction,
  type Runtime,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { AwsCallError, errorName } from "../core/errors.ts";
import { createInvokersReader, type InvokersReader } from "./lambda-invokers.ts";
import { isNotFound } from "./not-found.ts";
import {
  type AliasState,
  type CodeSigning,
  type FunctionState,
  isPublishedVersion,
  type VersionDeletion,
  type VersionSummary,
} from "../observe/state.ts";

/** New code for $LATEST: the bytes themselves (up to 50 MB) or an object staged in S3. */
export type CodeUpdate = ({ zipFile: Uint8Array } | { s3: { bucket: string; key: string } }) & {
  architectures: string[];
  revisionId: string;
  /** The function's customer-managed code key (SourceKMSKeyArn), so an update never drops it. */
  sourceKmsKeyArn?: string;
};

export interface ConfigUpdate {
  runtime: string | undefined;
  handler: string | undefined;
  /** Layer version ARNs; undefined leaves the layers as they are, [] removes them. */
  layers?: string[];
  revisionId: string;
}

export interface AliasWrite {
  functionVersion: string;
  weights: Record<string, number>;
  description?: string;
}

/** What the reconciler reads from Lambda (target or source account). */
export interface LambdaReader {
  /** All aliases of the function; undefined when the function does not exist. */
  listAliases(functionName: string): Promise<AliasState[] | undefined>;
  /** undefined when the function (or the qualifier) does not exist. */
  getFunction(functionName: string, qualifier?: string): Promise<FunctionState | undefined>;
  getAlias(functionName: string, alias: string): Promise<AliasState | undefined>;
  /**
   * The function's code-signing configuration and its deployment policy; undefined when it has
   * none (GetFunctionCodeSigningConfig, then GetCodeSigningConfig). Control-plane calls: read only
   * when code is about to be promoted.
   */
  getCodeSigning(functionName: string): Promise<CodeSigning | undefined>;
  /**
   * The provisioned concurrency requested on an alias or version (GetProvisionedConcurrencyConfig);
   * undefined when it has none (ProvisionedConcurrencyConfigNotFoundException). Read only for
   * functions that declare a canary.
   */
  getProvisionedConcurrency(functionName: string, qualifier: string): Promise<number | undefined>;
}

/**
 * What the reconciler changes in the target account. Every write carries a precondition.
 * createAlias / updateAlias answer with the alias as it now is (FunctionVersion, RoutingConfig,
 * RevisionId, Description): apply checks that answer instead of reading the alias back.
 */
export interface LambdaWriter extends LambdaReader, InvokersReader {
  updateFunctionCode(functionName: string, update: CodeUpdate): Promise<FunctionState>;
  updateFunctionConfiguration(functionName: string, update: ConfigUpdate): Promise<FunctionState>;
  publishVersion(
    functionName: string,
    input: { codeSha256: string; revisionId: string; description: string },
  ): Promise<FunctionState>;
  createAlias(functionName: string, alias: string, write: AliasWrite): Promise<AliasState>;
  updateAlias(
    functionName: string,
    alias: string,
    write: AliasWrite & { revisionId: string },
  ): Promise<AliasState>;
  /** Every version ($LATEST included); undefined when the function does not exist. */
  listVersions(functionName: string): Promise<VersionSummary[] | undefined>;
  /** Deletes one alias; "absent" when it was already gone. DeleteAlias takes no RevisionId. */
  deleteAlias(functionName: string, alias: string): Promise<"deleted" | "absent">;
  /**
   * Deletes ONE published version (DeleteFunction with Qualifier = that number; never unqualified,
   * which would delete the function). "referenced": Lambda refused because an alias references it.
   */
  deleteVersion(functionName: string, functionVersion: string): Promise<VersionDeletion>;
  /**
   * Synchronous (RequestResponse) invocation of a qualified version (a version alias) with a JSON
   * payload: the rollout's smoke test. A function error or a status other than 200 is a failed
   * outcome (a value); only the call itself failing (missing function, no permission) throws.
   */
  invoke(functionName: string, qualifier: string, payload: unknown, options?: { abortSignal?: AbortSignal }): Promise<InvokeOutcome>;
}

/** At most this much of a function's answer is kept (for the report), never the whole payload. */
export const INVOKE_EXCERPT_CHARS = 200;

export type InvokeOutcome =
  | { ok: true; statusCode: number; executedVersion: string | undefined }
  | {
      ok: false;
      statusCode: number;
      /** Lambda's FunctionError ("Unhandled", ...), when the function failed. */
      functionError: string | undefined;
      executedVersion: string | undefined;
      /** The start of the answer, cut to INVOKE_EXCERPT_CHARS. */
      excerpt: string;
    };


async function absentOnNotFound<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new AwsCallError(operation, error);
  }
}

async function wrap<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new AwsCallError(operation, error);
  }
}

export function toAliasState(alias: AliasConfiguration): AliasState {
  return {
    name: alias.Name ?? "",
    functionVersion: alias.FunctionVersion ?? "",
    weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    revisionId: alias.RevisionId ?? "",
    description: alias.Description ?? "",
  };
}

export function toFunctionState(config: FunctionConfiguration, code?: FunctionCodeLocation): FunctionState {
  const codeLocation = code?.Location;
  return {
    functionVersion: config.Version ?? "$LATEST",
    packageType: config.PackageType === "Image" ? "Image" : "Zip",
    codeSha256: config.CodeSha256 ?? "",
    codeSize: config.CodeSize ?? 0,
    runtime: config.Runtime,
    handler: config.Handler,
    architectures: config.Architectures ?? ["x86_64"],
    role: config.Role,
    deadLetterTargetArn: config.DeadLetterConfig?.TargetArn,
    revisionId: config.RevisionId ?? "",
    state: config.State,
    lastUpdateStatus: config.LastUpdateStatus,
    lastUpdateStatusReason: config.LastUpdateStatusReason,
    codeLocation,
    layers: (config.Layers ?? []).map((layer) => layer.Arn ?? ""),
    ...(code?.SourceKMSKeyArn ? { sourceKmsKeyArn: code.SourceKMSKeyArn } : {}),
  };
}

const routing = (weights: Record<string, number>) => ({ AdditionalVersionWeights: weights });

export function createLambdaAdapter(client: LambdaClient): LambdaWriter {
  return {
    ...createInvokersReader(client),
    async listAliases(functionName) {
      return absentOnNotFound("ListAliases", async () => {
        const aliases: AliasState[] = [];
        for await (const page of paginateListAliases(
          { client, pageSize: 10000 },
          { FunctionName: functionName },
        )) {
          for (const alias of page.Aliases ?? []) aliases.push(toAliasState(alias));
        }
        return aliases;
      });
    },
    async getFunction(functionName, qualifier) {
      return absentOnNotFound("GetFunction", async () => {
        const out = await client.send(
          new GetFunctionCommand({ FunctionName: functionName, Qualifier: qualifier }),
        );
        return toFunctionState(out.Configuration ?? {}, out.Code);
      });
    },
    async getAlias(functionName, alias) {
      return absentOnNotFound("GetAlias", async () =>
        toAliasState(await client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }))),
      );
    },
    async updateFunctionCode(functionName, update) {
      return wrap("UpdateFunctionCode", async () =>
        toFunctionState(
          await client.send(
            new UpdateFunctionCodeCommand({
              FunctionName: functionName,
              ...("zipFile" in update
                ? { ZipFile: update.zipFile }
                : { S3Bucket: update.s3.bucket, S3Key: update.s3.key }),
              Architectures: update.architectures as Architecture[],
              RevisionId: update.revisionId,
              ...(update.sourceKmsKeyArn ? { SourceKMSKeyArn: update.sourceKmsKeyArn } : {}),
            }),
          ),
        ),
      );
    },
    async updateFunctionConfiguration(functionName, update) {
      return wrap("UpdateFunctionConfiguration", async () =>
        toFunctionState(
          await client.send(
            new UpdateFunctionConfigurationCommand({
              FunctionName: functionName,
              Runtime: update.runtime as Runtime | undefined,
              Handler: update.handler,
              ...(update.layers === undefined ? {} : { Layers: update.layers }),
              RevisionId: update.revisionId,
            }),
          ),
        ),
      );
    },
    async publishVersion(functionName, input) {
      return wrap("PublishVersion", async () =>
        toFunctionState(
          await client.send(
            new PublishVersionCommand({
              FunctionName: functionName,
              CodeSha256: input.codeSha256,
              RevisionId: input.revisionId,
              Description: input.description,
            }),
          ),
        ),
      );
    },
    async createAlias(functionName, alias, write) {
      return wrap("CreateAlias", async () =>
        toAliasState(
          await client.send(
            new CreateAliasCommand({
              FunctionName: functionName,
              Name: alias,
              FunctionVersion: write.functionVersion,
              RoutingConfig: routing(write.weights),
              Description: write.description,
            }),
          ),
        ),
      );
    },
    async updateAlias(functionName, alias, write) {
      return wrap("UpdateAlias", async () =>
        toAliasState(
          await client.send(
            new UpdateAliasCommand({
              FunctionName: functionName,
              Name: alias,
              FunctionVersion: write.functionVersion,
              RoutingConfig: routing(write.weights),
              RevisionId: write.revisionId,
              Description: write.description,
            }),
          ),
        ),
      );
    },
    async getProvisionedConcurrency(functionName, qualifier) {
      try {
        const out = await client.send(
          new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: qualifier }),
        );
        return out?.RequestedProvisionedConcurrentExecutions;
      } catch (error) {
        if (errorName(error) === "ProvisionedConcurrencyConfigNotFoundException") return undefined;
        throw new AwsCallError("GetProvisionedConcurrencyConfig", error);
      }
    },
    async getCodeSigning(functionName) {
      const arn = await wrap("GetFunctionCodeSigningConfig", async () => {
        const out = await client.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: functionName }));
        return out?.CodeSigningConfigArn || undefined;
      });
      if (arn === undefined) return undefined;
      return wrap("GetCodeSigningConfig", async () => {
        const out = await client.send(new GetCodeSigningConfigCommand({ CodeSigningConfigArn: arn }));
        // Lambda's default policy is Warn.
        const policy = out?.CodeSigningConfig?.CodeSigningPolicies?.UntrustedArtifactOnDeployment ?? "Warn";
        return { configArn: arn, untrustedArtifactOnDeployment: policy === "Enforce" ? "Enforce" : "Warn" };
      });
    },
    async listVersions(functionName) {
      return absentOnNotFound("ListVersionsByFunction", async () => {
        const versions: VersionSummary[] = [];
        // ListVersionsByFunction returns at most 50 versions a page, whatever MaxItems says.
        for await (const page of paginateListVersionsByFunction(
          { client, pageSize: 50 },
          { FunctionName: functionName },
        )) {
          for (const v of page.Versions ?? []) {
            versions.push({
              functionVersion: v.Version ?? "",
              codeSha256: v.CodeSha256 ?? "",
              description: v.Description ?? "",
              lastModified: v.LastModified ?? "",
            });
          }
        }
        return versions;
      });
    },
    async deleteAlias(functionName, alias) {
      const done = await absentOnNotFound("DeleteAlias", async () => {
        await client.send(new DeleteAliasCommand({ FunctionName: functionName, Name: alias }));
        return "deleted" as const;
      });
      return done ?? "absent";
    },
    async deleteVersion(functionName, functionVersion) {
      if (!isPublishedVersion(functionVersion)) {
        throw new Error(`refusing to delete "${functionVersion}": only a published version number can be deleted`);
      }
      try {
        await client.send(new DeleteFunctionCommand({ FunctionName: functionName, Qualifier: functionVersion }));
        return { kind: "deleted" };
      } catch (error) {
        if (isNotFound(error)) return { kind: "absent" };
        if (errorName(error) === "ResourceConflictException") {
          return { kind: "referenced", message: (error as Error).message };
        }
        throw new AwsCallError("DeleteFunction", error);
      }
    },
    async invoke(functionName, qualifier, payload, options) {
      return wrap("Invoke", async () => {
        const out = await client.send(
          new InvokeCommand({
            FunctionName: functionName,
            Qualifier: qualifier,
            InvocationType: "RequestResponse",
            Payload: new TextEncoder().encode(JSON.stringify(payload ?? null)),
          }),
          { abortSignal: options?.abortSignal },
        );
        const statusCode = out.StatusCode ?? 0;
        const executedVersion = out.ExecutedVersion;
        if (out.FunctionError === undefined && statusCode === 200) return { ok: true, statusCode, executedVersion };
        const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
        const excerpt = text.length > INVOKE_EXCERPT_CHARS ? `${text.slice(0, INVOKE_EXCERPT_CHARS)}…` : text;
        return { ok: false, statusCode, functionError: out.FunctionError, executedVersion, excerpt };
      });
    },
  };
}
