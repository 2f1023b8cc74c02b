/**
 * Builds a multi-account Lambda world inside one moto server.
 *
 * moto keeps separate state per account and decides the account from the access key: keys issued by
 * STS AssumeRole act in the account of the assumed role's ARN. So `account(server, id)` assumes
 * `arn:aws:iam::<id>:role/lambda-gitops-test` with moto's default credentials and returns clients signed
 * with the temporary keys. moto lets anyone assume any role ARN, existing or not, and does not evaluate
 * IAM policies, so no trust or permission set-up is needed (or tested) here. Lambda's CreateFunction in
 * moto does require the execution role to exist in the same account, which `account()` creates.
 */
import { CreateRoleCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  LambdaClient,
  type LambdaClient as LambdaClientType,
  PublishVersionCommand,
  type Runtime,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { zipSync } from "fflate";
import { MOTO_ACCESS_KEY_ID, MOTO_REGION, MOTO_SECRET_ACCESS_KEY, type MotoServer } from "./moto.ts";

export const STAGING = "111111111111";
export const PRODUCTION = "222222222222";

/** Role the tests assume to act in an account (it need not exist in moto). */
export const TEST_ROLE_NAME = "lambda-gitops-test";
/** Execution role created in every account for CreateFunction. */
export const EXECUTION_ROLE_NAME = "lambda-gitops-test-execution";
/** Role the reconciler assumes in the source (lower) account to read code. */
export const SOURCE_ROLE_NAME = "lambda-gitops-source";
export const DEFAULT_RUNTIME = "nodejs20.x";
export const DEFAULT_HANDLER = "index.handler";
export const LIVE_ALIAS = "LIVE";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Settings to build any other SDK client for this account: `new S3Client({ ...world.clientConfig })`. */
export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: Credentials;
  maxAttempts: number;
}

export interface AccountWorld {
  accountId: string;
  credentials: Credentials;
  lambda: LambdaClientType;
  /** Execution role created in that account. */
  roleArn: string;
  clientConfig: ClientConfig;
}

export function roleArn(accountId: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role/${roleName}`;
}

/** `arn:aws:iam::<STAGING>:role/lambda-gitops-source` by default. */
export function sourceRoleArn(accountId: string = STAGING): string {
  return roleArn(accountId, SOURCE_ROLE_NAME);
}

/** Clients signed with moto's default (account 123456789012) credentials. */
export function defaultClientConfig(server: MotoServer): ClientConfig {
  return {
    endpoint: server.endpoint,
    region: MOTO_REGION,
    credentials: { accessKeyId: MOTO_ACCESS_KEY_ID, secretAccessKey: MOTO_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  };
}

/** Temporary credentials acting in `accountId` (moto maps them to the role ARN's account). */
export async function assumeInto(
  server: MotoServer,
  accountId: string,
  roleName: string = TEST_ROLE_NAME,
): Promise<Credentials> {
  const sts = new STSClient(defaultClientConfig(server));
  try {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn(accountId, roleName), RoleSessionName: "lambda-gitops-test" }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole into ${accountId} returned no credentials`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  } finally {
    sts.destroy();
  }
}

/** Creates (or finds) an IAM role in the account the config acts in; returns its ARN. */
export async function ensureRole(
  config: ClientConfig,
  roleName: string,
  trustPolicy: Record<string, unknown>,
): Promise<string> {
  const iam = new IAMClient(config);
  try {
    try {
      const out = await iam.send(
        new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trustPolicy) }),
      );
      return out.Role!.Arn!;
    } catch (error) {
      if ((error as { name?: string }).name !== "EntityAlreadyExistsException") throw error;
      return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!.Arn!;
    }
  } finally {
    iam.destroy();
  }
}

function trustPolicy(principal: Record<string, string>): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }],
  };
}

/** Assume into `accountId`, create its Lambda execution role, return clients for it. Idempotent. */
export async function account(server: MotoServer, accountId: string): Promise<AccountWorld> {
  const credentials = await assumeInto(server, accountId);
  const clientConfig: ClientConfig = {
    endpoint: server.endpoint,
    region: MOTO_REGION,
    credentials,
    maxAttempts: 1,
  };
  const executionRoleArn = await ensureRole(
    clientConfig,
    EXECUTION_ROLE_NAME,
    trustPolicy({ Service: "lambda.amazonaws.com" }),
  );
  return {
    accountId,
    credentials,
    lambda: new LambdaClient(clientConfig),
    roleArn: executionRoleArn,
    clientConfig,
  };
}

/**
 * Creates `lambda-gitops-source` in the source account (STAGING by default), trusting `trustedAccountId`.
 * Optional in moto: AssumeRole into that ARN works whether or not the role exists, and moto ignores the
 * trust policy. Create it when a test wants the world to look like production (e.g. GetRole).
 */
export async function createSourceRole(
  source: AccountWorld,
  trustedAccountId: string = PRODUCTION,
): Promise<string> {
  return ensureRole(
    source.clientConfig,
    SOURCE_ROLE_NAME,
    trustPolicy({ AWS: `arn:aws:iam::${trustedAccountId}:root` }),
  );
}

/** A fixed local-time date, so the DOS timestamps (local time) in the zip never vary by clock or TZ. */
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/** Deterministic zip: entries sorted by name, fixed mtime, fixed compression level. */
export function zipOf(files: Record<string, string>): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const name of Object.keys(files).sort()) entries[name] = new TextEncoder().encode(files[name]);
  return zipSync(entries, { mtime: ZIP_MTIME, level: 6 });
}

/** Alias name for a semver: 1.2.3 -> 1-2-3; 1.2.3-rc.1 -> 1-2-3_rc-1 ('-' -> '_' first, then '.' -> '-'). */
export function versionAlias(semver: string): string {
  return semver.replaceAll("-", "_").replaceAll(".", "-");
}

/** The code seeded for `semver` when the spec gives none: distinct per function and version. */
export function defaultCode(functionName: string, semver: string): Record<string, string> {
  return {
    "index.js": `exports.handler = async () => ({ function: ${JSON.stringify(functionName)}, version: ${JSON.stringify(semver)} });\n`,
  };
}

export interface SeedFunction {
  name: string;
  versions: { version: string; code?: Record<string, string> }[];
  /** Semver LIVE points at, "$LATEST", or null/undefined for no LIVE alias. */
  live?: string | null;
  runtime?: string;
  handler?: string;
}

export interface SeededVersion {
  functionVersion: string;
  codeSha256: string;
}

/**
 * Creates the function, then for each listed semver: UpdateFunctionCode (distinct code per version by
 * default), PublishVersion (Description = semver), CreateAlias `versionAlias(semver)`; finally points
 * `liveAlias` (default LIVE) at spec.live. Versions must have distinct code: like AWS, PublishVersion of
 * unchanged code would not create a new version.
 */
export async function seedFunction(
  world: AccountWorld,
  spec: SeedFunction,
  liveAlias: string = LIVE_ALIAS,
): Promise<{ versions: Record<string, SeededVersion> }> {
  const { lambda } = world;
  const live = spec.live ?? null;
  if (live !== null && live !== "$LATEST" && !spec.versions.some((v) => v.version === live)) {
    throw new Error(`seedFunction(${spec.name}): live ${live} is not one of the listed versions`);
  }
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: spec.name,
      Role: world.roleArn,
      // SDK's Runtime is a literal union; tests may name runtimes it does not list yet.
      Runtime: (spec.runtime ?? DEFAULT_RUNTIME) as Runtime,
      Handler: spec.handler ?? DEFAULT_HANDLER,
      Code: { ZipFile: zipOf(defaultCode(spec.name, "0.0.0-seed")) },
    }),
  );
  const versions: Record<string, SeededVersion> = {};
  for (const v of spec.versions) {
    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: spec.name,
        ZipFile: zipOf(v.code ?? defaultCode(spec.name, v.version)),
      }),
    );
    const published = await lambda.send(
      new PublishVersionCommand({ FunctionName: spec.name, Description: v.version }),
    );
    const functionVersion = published.Version!;
    versions[v.version] = { functionVersion, codeSha256: published.CodeSha256! };
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: spec.name,
        Name: versionAlias(v.version),
        FunctionVersion: functionVersion,
      }),
    );
  }
  if (live !== null) {
    const target = live === "$LATEST" ? "$LATEST" : versions[live]!.functionVersion;
    await lambda.send(
      new CreateAliasCommand({ FunctionName: spec.name, Name: liveAlias, FunctionVersion: target }),
    );
  }
  return { versions };
}
