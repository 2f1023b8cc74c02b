/**
 * Lambda's API quotas and which quota each operation draws from: facts about the service, shared by
 * the job parameters (their rate limits), the SDK scheduler (aws/scheduler.ts) and the test proxy
 * that emulates the quotas (test/support/aws-proxy.ts). Pure: no SDK.
 */

/** The quota classes this tool budgets: GetFunction has its own; every other control-plane call shares one. */
export type QuotaClass = "control" | "getFunction";
export const QUOTA_CLASSES: readonly QuotaClass[] = ["control", "getFunction"];

/** Lambda's quotas per account and region (requests per second; they cannot be raised). */
export const LAMBDA_QUOTAS: Readonly<Record<QuotaClass, number>> = { control: 15, getFunction: 100 };

/**
 * The quota an operation (`GetFunction`, `UpdateAlias`, ...) draws from: GetFunction has its own,
 * Invoke is not control plane (it is limited by concurrency), every other operation shares one.
 */
export function lambdaQuotaClass(operation: string): QuotaClass | "invoke" {
  if (operation === "GetFunction") return "getFunction";
  if (operation === "Invoke" || operation === "InvokeAsync") return "invoke";
  return "control";
}
