/**
 * The STS side of preflight (observe/preflight.ts): the Region and credentials the SDK's standard
 * chain resolves, sts:GetCallerIdentity in the target account, and the same call with the source
 * role's credentials (which makes the SDK assume the role). Read-only; no Lambda call.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { CallerIdentity, PreflightProbe } from "../observe/preflight.ts";

/** Preflight needs an answer, not patience: one retry. */
const PREFLIGHT_MAX_ATTEMPTS = 2;

async function whoAmI(client: STSClient): Promise<CallerIdentity> {
  const answer = await client.send(new GetCallerIdentityCommand({}));
  return { account: answer.Account ?? "unknown", arn: answer.Arn ?? "unknown" };
}

export function stsPreflightProbe(options: {
  region: string | undefined;
  sourceCredentials?: ReturnType<typeof fromTemporaryCredentials>;
}): PreflightProbe {
  const target = new STSClient({ region: options.region, maxAttempts: PREFLIGHT_MAX_ATTEMPTS });
  const probe: PreflightProbe = {
    region: () => target.config.region(),
    credentials: () => target.config.credentials(),
    targetIdentity: () => whoAmI(target),
  };
  const credentials = options.sourceCredentials;
  if (credentials) {
    probe.sourceIdentity = async () =>
      whoAmI(
        new STSClient({
          region: await target.config.region(),
          credentials,
          maxAttempts: PREFLIGHT_MAX_ATTEMPTS,
        }),
      );
  }
  return probe;
}
