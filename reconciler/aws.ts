/**
 * Builds the SDK clients from the standard chain: credentials, region and endpoints come from the
 * environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same
 * code runs against AWS, LocalStack or moto. The source account is reached through an assumed role
 * whose credentials the SDK caches and refreshes (fromTemporaryCredentials).
 */
import { LambdaClient } from "@aws-sdk/client-lambda";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { createLambdaAdapter, type LambdaWriter } from "./adapters/lambda.ts";
import type { SourceAccount } from "./observe.ts";
import { accountOfRoleArn, type JobParameters } from "./parameters.ts";

export interface AwsContext {
  target: LambdaWriter;
  source: SourceAccount | undefined;
}

/** Lambda's write quota is small and shared: let the SDK retry throttles a few more times. */
export const LAMBDA_MAX_ATTEMPTS = 6;

/** Role chaining (a Lambda role assuming another role) caps sessions at one hour. */
const SOURCE_SESSION_SECONDS = 3600;

/** A RoleSessionName that names the tool (visible in the source account's CloudTrail). */
export function sessionName(runId: string | undefined): string {
  const id = (runId ?? "cli").replace(/[^\w+=,.@-]/g, "-");
  return `lambda-gitops-${id}`.slice(0, 64);
}

export function createAwsContext(parameters: JobParameters, options: { runId?: string } = {}): AwsContext {
  const region = parameters.region;
  const target = new LambdaClient({ region, maxAttempts: LAMBDA_MAX_ATTEMPTS });
  let source: SourceAccount | undefined;
  if (parameters.sourceRoleArn) {
    const credentials = fromTemporaryCredentials({
      params: {
        RoleArn: parameters.sourceRoleArn,
        RoleSessionName: sessionName(options.runId),
        ExternalId: parameters.externalId,
        DurationSeconds: SOURCE_SESSION_SECONDS,
      },
      clientConfig: region ? { region } : {},
    });
    const client = new LambdaClient({ region, credentials, maxAttempts: LAMBDA_MAX_ATTEMPTS });
    source = {
      reader: createLambdaAdapter(client),
      accountId: accountOfRoleArn(parameters.sourceRoleArn) ?? "unknown",
    };
  }
  return { target: createLambdaAdapter(target), source };
}
