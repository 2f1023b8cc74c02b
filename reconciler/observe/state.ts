/**
 * What the reconciler knows about a Lambda function, in domain terms. The Lambda adapter
 * (../aws/lambda.ts) maps the SDK's shapes to these; observe, plan and apply use only these.
 */

/**
 * A routing as Lambda's alias API takes and returns it: the primary function version and the
 * additional versions' shares (fractions, 0..1). plan/routing.ts has the canonical form.
 */
export interface AliasRouting {
  functionVersion: string;
  weights: Record<string, number>;
}

/** The routing of an alias (or a marker, or LIVE), as a fresh value: the one way to take it. */
export function aliasRouting(from: AliasRouting): AliasRouting {
  return { functionVersion: from.functionVersion, weights: { ...from.weights } };
}

/** An alias as Lambda stores it. `weights` maps additional version -> fraction (0..1). */
export interface AliasState extends AliasRouting {
  name: string;
  revisionId: string;
  /** The alias's Description ("" when none): on LIVE, the marker (./marker.ts). */
  description: string;
}

export interface FunctionState {
  /** "$LATEST" or a published version number. */
  functionVersion: string;
  packageType: "Zip" | "Image";
  codeSha256: string;
  codeSize: number;
  runtime: string | undefined;
  handler: string | undefined;
  architectures: string[];
  role: string | undefined;
  deadLetterTargetArn: string | undefined;
  revisionId: string;
  state: string | undefined;
  lastUpdateStatus: string | undefined;
  lastUpdateStatusReason: string | undefined;
  /** Presigned download URL, valid 10 minutes. Never log or store it. */
  codeLocation: string | undefined;
  /** Layer version ARNs, in order (part of what a version runs); absent when not read. */
  layers?: string[];
  /**
   * The customer-managed KMS key encrypting the function's .zip package (GetFunction's
   * Code.SourceKMSKeyArn); absent when Lambda's own key is used. Kept on every code update.
   */
  sourceKmsKeyArn?: string;
}

/**
 * A function's code-signing configuration: with `Enforce`, Lambda refuses code not signed by one of
 * its allowed publishers, so copied bytes fail late with a generic error unless the plan blocks.
 */
export interface CodeSigning {
  configArn: string;
  untrustedArtifactOnDeployment: "Enforce" | "Warn";
}

/**
 * What identifies a function in AWS. `account` is the target account id when known; the target
 * account's id is not known without an extra STS call, so it is the placeholder `"target"` (the
 * same label the rate scheduler uses) until a run knows it. `region` is the Lambda client's Region.
 */
export interface FunctionKey {
  account: string;
  region: string;
  name: string;
}

/** The placeholder account of a FunctionKey whose target account id is not known. */
export const TARGET_ACCOUNT = "target";

/** Order keys by account, Region, then name (code-unit order, so plans are deterministic). */
export function compareKeys(a: FunctionKey, b: FunctionKey): number {
  return compareText(a.account, b.account) || compareText(a.region, b.region) || compareText(a.name, b.name);
}

export function sameKey(a: FunctionKey, b: FunctionKey): boolean {
  return compareKeys(a, b) === 0;
}

/** "account/region/name": one string for maps and logs. */
export function keyId(key: FunctionKey): string {
  return `${key.account}/${key.region}/${key.name}`;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A published version is a number; "$LATEST" and anything else is not. */
export function isPublishedVersion(functionVersion: string): boolean {
  return /^[0-9]+$/.test(functionVersion);
}

/** One version as ListVersionsByFunction lists it. */
export interface VersionSummary {
  /** "$LATEST" or a published version number. */
  functionVersion: string;
  codeSha256: string;
  description: string;
  lastModified: string;
}

/** One event-source mapping as ListEventSourceMappings returns it (FunctionArn may carry a qualifier). */
export interface EventSourceMappingSummary {
  uuid: string;
  functionArn: string;
  state: string;
}

export type VersionDeletion = { kind: "deleted" } | { kind: "absent" } | { kind: "referenced"; message: string };
