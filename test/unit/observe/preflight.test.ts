import { expect } from "chai";
import {
  classifyPreflightError,
  type PreflightHints,
  type PreflightProbe,
  type PreflightProblemKind,
  type PreflightStage,
  runPreflight,
} from "../../../reconciler/observe/preflight.ts";

const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name }, extra);

describe("preflight error classification", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), {
    code: "ECONNREFUSED",
    address: "127.0.0.1",
    port: 4566,
  });
  const notFound = Object.assign(new Error("getaddrinfo ENOTFOUND moto.internal"), {
    code: "ENOTFOUND",
    hostname: "moto.internal",
  });
  const wrapped = Object.assign(new TypeError("fetch failed"), { cause: notFound });
  const cases: {
    stage: PreflightStage;
    error: unknown;
    hints?: PreflightHints;
    kind: PreflightProblemKind;
    message: string;
    fix: string;
  }[] = [
    { stage: "region", error: new Error("Region is missing"), kind: "no-region", message: "no AWS Region", fix: "--region or set AWS_REGION" },
    {
      stage: "region",
      error: new Error("Region is missing"),
      hints: { profile: "dev" },
      kind: "no-region",
      message: "no AWS Region",
      fix: 'region in profile "dev"',
    },
    {
      stage: "credentials",
      error: named("CredentialsProviderError", "Could not load credentials from any providers"),
      kind: "no-credentials",
      message: "no AWS credentials found",
      fix: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    },
    {
      stage: "credentials",
      error: named("CredentialsProviderError", "Could not load credentials from any providers"),
      hints: { profile: "prod-admin" },
      kind: "bad-profile",
      message: 'profile "prod-admin" (AWS_PROFILE) gave no credentials',
      fix: "[profile prod-admin] in ~/.aws/config",
    },
    {
      stage: "target",
      error: refused,
      hints: { endpoint: "http://127.0.0.1:4566" },
      kind: "unreachable",
      message: "cannot reach 127.0.0.1:4566 (ECONNREFUSED)",
      fix: "check that http://127.0.0.1:4566 is up",
    },
    { stage: "target", error: notFound, kind: "unreachable", message: "cannot reach moto.internal (ENOTFOUND)", fix: "AWS_ENDPOINT_URL" },
    { stage: "source", error: wrapped, kind: "unreachable", message: "cannot reach moto.internal (ENOTFOUND)", fix: "network" },
    {
      stage: "source",
      error: named("AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/x/y is not authorized to perform: sts:AssumeRole"),
      hints: { roleArn: "arn:aws:iam::111111111111:role/lambda-gitops-source" },
      kind: "assume-role-denied",
      message: "cannot assume the source role arn:aws:iam::111111111111:role/lambda-gitops-source: AccessDenied",
      fix: "trust policy",
    },
    {
      stage: "source",
      error: named("AccessDenied", "denied"),
      hints: { roleArn: "arn:aws:iam::111111111111:role/r", externalId: true },
      kind: "assume-role-denied",
      message: "AccessDenied: denied",
      fix: "with this --external-id",
    },
    {
      stage: "target",
      error: named("InvalidClientTokenId", "The security token included in the request is invalid."),
      kind: "credentials-rejected",
      message: "AWS rejected the credentials",
      fix: "AWS_ACCESS_KEY_ID",
    },
    {
      stage: "target",
      error: named("ExpiredToken", "expired"),
      hints: { profile: "sso" },
      kind: "credentials-rejected",
      message: "expired",
      fix: "aws sso login --profile sso",
    },
    { stage: "target", error: named("InternalFailure", "boom"), kind: "other", message: "checking the target account failed: InternalFailure: boom", fix: "profile, Region, endpoint" },
  ];
  for (const c of cases) {
    it(`${c.stage}: ${String((c.error as Error).name)} ${c.hints ? JSON.stringify(c.hints) : ""} -> ${c.kind}`, () => {
      const problem = classifyPreflightError(c.stage, c.error, c.hints ?? {});
      expect(problem.kind).to.equal(c.kind);
      expect(problem.message).to.include(c.message);
      expect(problem.fix).to.include(c.fix);
      expect(problem.message).not.to.include("\n");
    });
  }
});

describe("runPreflight", () => {
  const identity = (account: string) => async () => ({ account, arn: `arn:aws:sts::${account}:assumed-role/r/s` });
  const probe = (overrides: Partial<PreflightProbe> = {}): PreflightProbe => ({
    region: async () => "eu-west-1",
    credentials: async () => ({}),
    targetIdentity: identity("222222222222"),
    ...overrides,
  });

  it("answers the Region and both identities when everything works", async () => {
    const result = await runPreflight(probe({ sourceIdentity: identity("111111111111") }), {});
    expect(result).to.deep.equal({
      ok: true,
      region: "eu-west-1",
      target: { account: "222222222222", arn: "arn:aws:sts::222222222222:assumed-role/r/s" },
      source: { account: "111111111111", arn: "arn:aws:sts::111111111111:assumed-role/r/s" },
    });
  });

  it("stops at the first failure, with the stage it failed in", async () => {
    const calls: string[] = [];
    const result = await runPreflight(
      probe({
        region: async () => {
          calls.push("region");
          return undefined;
        },
        targetIdentity: async () => {
          calls.push("target");
          return { account: "x", arn: "x" };
        },
      }),
      {},
    );
    expect(calls).to.deep.equal(["region"]);
    expect(!result.ok && result.problem.kind).to.equal("no-region");
    const denied = await runPreflight(
      probe({
        sourceIdentity: async () => {
          throw named("AccessDenied", "no");
        },
      }),
      {},
    );
    expect(!denied.ok && [denied.problem.stage, denied.problem.kind]).to.deep.equal(["source", "assume-role-denied"]);
  });
});
