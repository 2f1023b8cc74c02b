/**
 * Lambda's operations as the test emulators see them: which REST route is which operation, and
 * which operations change state. One list for the TypeScript side (aws-proxy.ts, moto.ts; the quota
 * class of each operation is core/lambda-quotas.ts). The moto launcher (moto_launcher.py) keeps its
 * own copy of the routes; test/unit/support/lambda-operations.test.ts checks that they agree.
 */
import { lambdaQuotaClass } from "../../reconciler/core/lambda-quotas.ts";

/** Lambda is a REST API: method + path after "/<api-version>/" ("*" = any one segment). */
export const LAMBDA_ROUTES: readonly [method: string, path: readonly string[], operation: string][] = [
  ["GET", ["functions"], "ListFunctions"],
  ["POST", ["functions"], "CreateFunction"],
  ["GET", ["functions", "*"], "GetFunction"],
  ["DELETE", ["functions", "*"], "DeleteFunction"],
  ["GET", ["functions", "*", "configuration"], "GetFunctionConfiguration"],
  ["PUT", ["functions", "*", "configuration"], "UpdateFunctionConfiguration"],
  ["PUT", ["functions", "*", "code"], "UpdateFunctionCode"],
  ["GET", ["functions", "*", "versions"], "ListVersionsByFunction"],
  ["POST", ["functions", "*", "versions"], "PublishVersion"],
  ["GET", ["functions", "*", "aliases"], "ListAliases"],
  ["POST", ["functions", "*", "aliases"], "CreateAlias"],
  ["GET", ["functions", "*", "aliases", "*"], "GetAlias"],
  ["PUT", ["functions", "*", "aliases", "*"], "UpdateAlias"],
  ["DELETE", ["functions", "*", "aliases", "*"], "DeleteAlias"],
  ["POST", ["functions", "*", "invocations"], "Invoke"],
  ["POST", ["functions", "*", "invoke-async"], "InvokeAsync"],
  ["GET", ["functions", "*", "policy"], "GetPolicy"],
  ["POST", ["functions", "*", "policy"], "AddPermission"],
  ["DELETE", ["functions", "*", "policy", "*"], "RemovePermission"],
  ["GET", ["functions", "*", "concurrency"], "GetFunctionConcurrency"],
  ["PUT", ["functions", "*", "concurrency"], "PutFunctionConcurrency"],
  ["DELETE", ["functions", "*", "concurrency"], "DeleteFunctionConcurrency"],
  ["GET", ["functions", "*", "provisioned-concurrency"], "GetProvisionedConcurrencyConfig"],
  ["PUT", ["functions", "*", "provisioned-concurrency"], "PutProvisionedConcurrencyConfig"],
  ["DELETE", ["functions", "*", "provisioned-concurrency"], "DeleteProvisionedConcurrencyConfig"],
  ["GET", ["functions", "*", "code-signing-config"], "GetFunctionCodeSigningConfig"],
  ["PUT", ["functions", "*", "code-signing-config"], "PutFunctionCodeSigningConfig"],
  ["DELETE", ["functions", "*", "code-signing-config"], "DeleteFunctionCodeSigningConfig"],
  ["GET", ["functions", "*", "url"], "GetFunctionUrlConfig"],
  ["POST", ["functions", "*", "url"], "CreateFunctionUrlConfig"],
  ["PUT", ["functions", "*", "url"], "UpdateFunctionUrlConfig"],
  ["DELETE", ["functions", "*", "url"], "DeleteFunctionUrlConfig"],
  ["GET", ["functions", "*", "urls"], "ListFunctionUrlConfigs"],
  ["GET", ["functions", "*", "event-invoke-config"], "GetFunctionEventInvokeConfig"],
  ["PUT", ["functions", "*", "event-invoke-config"], "PutFunctionEventInvokeConfig"],
  ["POST", ["functions", "*", "event-invoke-config"], "UpdateFunctionEventInvokeConfig"],
  ["DELETE", ["functions", "*", "event-invoke-config"], "DeleteFunctionEventInvokeConfig"],
  ["GET", ["functions", "*", "event-invoke-config", "list"], "ListFunctionEventInvokeConfigs"],
  ["GET", ["functions", "*", "runtime-management-config"], "GetRuntimeManagementConfig"],
  ["PUT", ["functions", "*", "runtime-management-config"], "PutRuntimeManagementConfig"],
  ["GET", ["functions", "*", "recursion-config"], "GetFunctionRecursionConfig"],
  ["PUT", ["functions", "*", "recursion-config"], "PutFunctionRecursionConfig"],
  ["GET", ["tags", "*"], "ListTags"],
  ["POST", ["tags", "*"], "TagResource"],
  ["DELETE", ["tags", "*"], "UntagResource"],
  ["GET", ["event-source-mappings"], "ListEventSourceMappings"],
  ["POST", ["event-source-mappings"], "CreateEventSourceMapping"],
  ["GET", ["event-source-mappings", "*"], "GetEventSourceMapping"],
  ["PUT", ["event-source-mappings", "*"], "UpdateEventSourceMapping"],
  ["DELETE", ["event-source-mappings", "*"], "DeleteEventSourceMapping"],
  ["GET", ["layers"], "ListLayers"],
  ["GET", ["layers", "*", "versions"], "ListLayerVersions"],
  ["POST", ["layers", "*", "versions"], "PublishLayerVersion"],
  ["GET", ["layers", "*", "versions", "*"], "GetLayerVersion"],
  ["DELETE", ["layers", "*", "versions", "*"], "DeleteLayerVersion"],
  ["GET", ["account-settings"], "GetAccountSettings"],
];

export function lambdaOperation(method: string, path: string, query = ""): string {
  const rest = path.split("/").filter(Boolean).slice(1); // drop the API version
  for (const [m, pattern, operation] of LAMBDA_ROUTES) {
    if (m !== method || pattern.length !== rest.length) continue;
    if (pattern.every((p, i) => p === "*" || p === rest[i])) {
      if (operation === "GetProvisionedConcurrencyConfig" && /(^|&)List=/.test(query)) {
        return "ListProvisionedConcurrencyConfigs";
      }
      return operation;
    }
  }
  return "Unknown";
}

/** Lambda operations that change state (every route but GET, Invoke aside); the launcher's call log uses these names. */
export const MUTATING_LAMBDA_OPERATIONS: ReadonlySet<string> = new Set(
  LAMBDA_ROUTES.filter(([method, , operation]) => method !== "GET" && lambdaQuotaClass(operation) !== "invoke").map(
    ([, , operation]) => operation,
  ),
);
