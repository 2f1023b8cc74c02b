/**
 * Preflight: before any per-function work, resolve the Region and the credentials, ask STS who we
 * are in the target account, and assume the source role when promotions may be needed. A failure
 * is one problem with its fix (which variable, profile or endpoint), never a row per function.
 *
 * The checks run through a probe (aws/preflight.ts gives the STS one); what a failure means is a
 * pure classification of the error, table-tested in test/unit/observe/preflight.test.ts.
 */
import { describeError, errorName } from "../core/errors.ts";
import { networkCause } from "../core/network.ts";

export interface CallerIdentity {
  account: string;
  arn: string;
}

/** The side of preflight that talks to AWS. */
export interface PreflightProbe {
  region(): Promise<string | undefined>;
  credentials(): Promise<unknown>;
  targetIdentity(): Promise<CallerIdentity>;
  /** Present when a source role is configured: assumes it and asks who we are there. */
  sourceIdentity?: () => Promise<CallerIdentity>;
}

export type PreflightStage = "region" | "credentials" | "target" | "source";

/** What the user configured, to name in the fix (never secrets). */
export interface PreflightHints {
  profile?: string;
  /** The endpoint override in force (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL), if any. */
  endpoint?: string;
  roleArn?: string;
  externalId?: boolean;
}

export type PreflightProblemKind =
  | "no-region"
  | "no-credentials"
  | "bad-profile"
  | "unreachable"
  | "credentials-rejected"
  | "assume-role-denied"
  | "other";

export interface PreflightProblem {
  kind: PreflightProblemKind;
  stage: PreflightStage;
  /** What went wrong, one line. */
  message: string;
  /** What to do about it, one line. */
  fix: string;
}

export type PreflightResult =
  | { ok: true; region: string; target: CallerIdentity; source: CallerIdentity | undefined }
  | { ok: false; problem: PreflightProblem };

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH"]);
const REJECTED = new Set([
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
]);

/** A connection that could not be made, with its code and host. */
export function connectionFailure(error: unknown): { code: string; host: string | undefined } | undefined {
  const cause = networkCause(error);
  return cause && UNREACHABLE.has(cause.code) ? cause : undefined;
}

/** Pure: what a failure at `stage` means, and its fix. */
export function classifyPreflightError(
  stage: PreflightStage,
  error: unknown,
  hints: PreflightHints,
): PreflightProblem {
  const name = errorName(error);
  const text = describeError(error);
  const problem = (kind: PreflightProblemKind, message: string, fix: string): PreflightProblem => ({
    kind,
    stage,
    message,
    fix,
  });
  if (stage === "region" || /region is missing/i.test(text)) {
    return problem(
      "no-region",
      "no AWS Region is configured",
      hints.profile
        ? `pass --region, set AWS_REGION, or set region in profile "${hints.profile}" (~/.aws/config)`
        : "pass --region or set AWS_REGION (e.g. AWS_REGION=eu-west-1)",
    );
  }
  const network = connectionFailure(error);
  if (network) {
    const where = network.host ?? hints.endpoint ?? "the AWS endpoint";
    return problem(
      "unreachable",
      `cannot reach ${where} (${network.code})${stage === "credentials" ? " while loading credentials" : ""}`,
      hints.endpoint
        ? `check that ${hints.endpoint} is up, or fix AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_STS / _LAMBDA)`
        : "check the network, a proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL",
    );
  }
  if (stage === "credentials" || name === "CredentialsProviderError") {
    if (hints.profile) {
      return problem(
        "bad-profile",
        `profile "${hints.profile}" (AWS_PROFILE) gave no credentials: ${text}`,
        `check [profile ${hints.profile}] in ~/.aws/config and ~/.aws/credentials (or run aws sso login --profile ${hints.profile}), or unset AWS_PROFILE`,
      );
    }
    return problem(
      "no-credentials",
      "no AWS credentials found",
      "set AWS_PROFILE (a profile in ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)",
    );
  }
  if (stage === "source" && /AccessDenied/i.test(name)) {
    return problem(
      "assume-role-denied",
      `cannot assume the source role ${hints.roleArn ?? ""}: ${text}`.replace(/ {2}/g, " "),
      `the role's trust policy must allow the target account's identity to call sts:AssumeRole${hints.externalId ? " with this --external-id" : " (and, if it requires one, pass --external-id)"}; check --source-role-arn`,
    );
  }
  if (REJECTED.has(name)) {
    return problem(
      "credentials-rejected",
      `AWS rejected the credentials${stage === "source" ? " for the source role" : ""}: ${text}`,
      hints.profile
        ? `refresh profile "${hints.profile}" (e.g. aws sso login --profile ${hints.profile})`
        : "the access key is unknown or expired: refresh AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN",
    );
  }
  return problem(
    "other",
    `${stage === "source" ? "checking the source role" : "checking the target account"} failed: ${text}`,
    stage === "source" ? "check --source-role-arn and --external-id" : "check the AWS settings (profile, Region, endpoint)",
  );
}

/** Run the checks in order; the first failure is the answer. */
export async function runPreflight(probe: PreflightProbe, hints: PreflightHints): Promise<PreflightResult> {
  let stage: PreflightStage = "region";
  try {
    const region = await probe.region();
    if (!region) throw new Error("Region is missing");
    stage = "credentials";
    await probe.credentials();
    stage = "target";
    const target = await probe.targetIdentity();
    stage = "source";
    const source = probe.sourceIdentity ? await probe.sourceIdentity() : undefined;
    return { ok: true, region, target, source };
  } catch (error) {
    return { ok: false, problem: classifyPreflightError(stage, error, hints) };
  }
}

/** `lambda-gitops: no AWS credentials found\n  fix: set AWS_PROFILE ...` */
export function formatPreflightProblem(problem: PreflightProblem): string {
  return `${problem.message}\n  fix: ${problem.fix}`;
}
