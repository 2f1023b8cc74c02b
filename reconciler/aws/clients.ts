/**
 * Builds the SDK clients of one run from the standard chain: credentials, region and endpoints come
 * from the environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so
 * the same code runs against AWS, LocalStack or moto. The source account is reached through an
 * assumed role whose credentials the SDK caches and refreshes (fromTemporaryCredentials).
 *
 * Every Lambda client takes its calls from the shared rate scheduler of its (account, region)
 * (scheduler.ts): the target account under the label "target" (its id is not known without an extra
 * call), the source account under its own label. Only factories live here: which clients a run
 * needs, from its job parameters, is decided by the composition root (entry/context.ts).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { type AlarmReader, createCloudWatchAdapter } from "./cloudwatch.ts";
import { createLambdaAdapter, type LambdaReader, type LambdaWriter } from "./lambda.ts";
import { stsPreflightProbe } from "./preflight.ts";
import type { Rates, SchedulerRegistry } from "./scheduler.ts";
import { attachScheduler } from "./scheduler-middleware.ts";

/** Lambda's write quota is small and shared: let the SDK retry throttles a few more times. */
export const LAMBDA_MAX_ATTEMPTS = 6;

/** Role chaining (a Lambda role assuming another role) caps sessions at one hour. */
const SOURCE_SESSION_SECONDS = 3600;

/** A RoleSessionName that names the tool (visible in the source account's CloudTrail). */
export function sessionName(runId: string | undefined): string {
  const id = (runId ?? "cli").replace(/[^\w+=,.@-]/g, "-");
  return `lambda-gitops-${id}`.slice(0, 64);
}

export interface RunClientOptions {
  /** undefined: the SDK's chain (AWS_REGION, the profile's). */
  region: string | undefined;
  rates: Rates;
  /** The rate scheduler registry; false: no scheduler (plain concurrency). */
  registry: SchedulerRegistry | false;
  /** Names the source session (sessionName). */
  runId?: string;
  /** The source (lower) account: the role to assume there, and the scheduler label of its calls. */
  source?: { roleArn: string; externalId: string | undefined; label: string };
}

export interface RunClients {
  target: LambdaWriter;
  source: LambdaReader | undefined;
  /** STS checks of the same Region and credentials (and source role) before any Lambda call. */
  preflight: ReturnType<typeof stsPreflightProbe>;
  /** Alarm states in the target account (rollouts). */
  alarms: AlarmReader;
  /** These clients' Lambda attempts and 429s by account label and quota class (absent: no scheduler). */
  apiUsage?: () => Record<string, number>;
}

export function createRunClients(options: RunClientOptions): RunClients {
  const { region, registry, rates } = options;
  /** These clients' own attempts and 429s, per account label and quota class. */
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
  let source: LambdaReader | undefined;
  let sourceCredentials: ReturnType<typeof fromTemporaryCredentials> | undefined;
  if (options.source) {
    const credentials = (sourceCredentials = fromTemporaryCredentials({
      params: {
        RoleArn: options.source.roleArn,
        RoleSessionName: sessionName(options.runId),
        ExternalId: options.source.externalId,
        DurationSeconds: SOURCE_SESSION_SECONDS,
      },
      clientConfig: region ? { region } : {},
    }));
    const client = new LambdaClient({ region, credentials, maxAttempts: LAMBDA_MAX_ATTEMPTS });
    schedule(client, options.source.label);
    source = createLambdaAdapter(client);
  }
  const apiUsage = () => ({ ...usage });
  return {
    target: createLambdaAdapter(target),
    source,
    preflight: stsPreflightProbe({ region, sourceCredentials }),
    alarms: createCloudWatchAdapter(new CloudWatchClient({ region })),
    ...(registry ? { apiUsage } : {}),
  };
}
