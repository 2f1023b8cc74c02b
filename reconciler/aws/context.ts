/**
 * Builds the SDK clients from the standard chain: credentials, region and endpoints come from the
 * environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same
 * code runs against AWS, LocalStack or moto. The source account is reached through an assumed role
 * whose credentials the SDK caches and refreshes (fromTemporaryCredentials).
 *
 * Every Lambda client takes its calls from the shared rate scheduler of its (account, region)
 * (scheduler.ts): the target account under the label "target" (its id is not known without an extra
 * call), the source account under its id. `LAMBDA_GITOPS_RATE_LIMIT=off` turns the scheduler off
 * (plain concurrency; for comparisons such as `npm run bench`).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { type AlarmReader, createCloudWatchAdapter } from "./cloudwatch.ts";
import { createLambdaAdapter, type LambdaWriter } from "./lambda.ts";
import type { PreflightProbe } from "../apply/preflight.ts";
import { stsPreflightProbe } from "./preflight.ts";
import type { SourceAccount } from "../observe/observe.ts";
import { accountOfRoleArn, type JobParameters } from "../input/parameters.ts";
import {
  attachScheduler,
  DEFAULT_RATES,
  type Rates,
  type SchedulerRegistry,
  sharedRegistry,
} from "./scheduler.ts";

export interface AwsContext {
  target: LambdaWriter;
  source: SourceAccount | undefined;
  /** This context's Lambda attempts and 429s by account and quota class (absent: scheduler off). */
  apiUsage?: () => Record<string, number>;
  /** STS checks of the same Region and credentials (and source role) before any Lambda call. */
  preflight?: PreflightProbe;
  /** Alarm states in the target account (rollouts); absent in contexts built without CloudWatch. */
  alarms?: AlarmReader;
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

export function ratesOf(parameters: JobParameters): Rates {
  return {
    control: parameters.controlRate ?? DEFAULT_RATES.control,
    getFunction: parameters.getFunctionRate ?? DEFAULT_RATES.getFunction,
  };
}

export function createAwsContext(
  parameters: JobParameters,
  options: { runId?: string; registry?: SchedulerRegistry | false } = {},
): AwsContext {
  const region = parameters.region;
  const registry =
    options.registry ?? (process.env.LAMBDA_GITOPS_RATE_LIMIT === "off" ? false : sharedRegistry);
  const rates = ratesOf(parameters);
  /** This context's own attempts and 429s, per account label and quota class. */
  const usage: Record<string, number> = {};
  const count = (key: string) => {
    usage[key] = (usage[key] ?? 0) + 1;
  };
  const schedule = (client: LambdaClient, label: string) => {
    if (!registry) return;
    attachScheduler(
      client,
      async () => registry.get(label, (await client.config.region()) ?? "default", rates),
      {
        onAttempt: (quotaClass) => count(`${label}.${quotaClass}.calls`),
        onThrottle: (quotaClass) => count(`${label}.${quotaClass}.throttled`),
      },
    );
  };
  const target = new LambdaClient({ region, maxAttempts: LAMBDA_MAX_ATTEMPTS });
  schedule(target, "target");
  let source: SourceAccount | undefined;
  let sourceCredentials: ReturnType<typeof fromTemporaryCredentials> | undefined;
  if (parameters.sourceRoleArn) {
    const credentials = (sourceCredentials = fromTemporaryCredentials({
      params: {
        RoleArn: parameters.sourceRoleArn,
        RoleSessionName: sessionName(options.runId),
        ExternalId: parameters.externalId,
        DurationSeconds: SOURCE_SESSION_SECONDS,
      },
      clientConfig: region ? { region } : {},
    }));
    const client = new LambdaClient({ region, credentials, maxAttempts: LAMBDA_MAX_ATTEMPTS });
    const accountId = accountOfRoleArn(parameters.sourceRoleArn) ?? "unknown";
    schedule(client, accountId);
    source = { reader: createLambdaAdapter(client), accountId };
  }
  const apiUsage = () => ({ ...usage });
  const preflight = stsPreflightProbe({ region, sourceCredentials });
  const alarms = createCloudWatchAdapter(new CloudWatchClient({ region }));
  return { target: createLambdaAdapter(target), source, preflight, alarms, ...(registry ? { apiUsage } : {}) };
}
