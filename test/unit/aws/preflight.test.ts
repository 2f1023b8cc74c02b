import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { runPreflight } from "../../../reconciler/observe/preflight.ts";
import { stsPreflightProbe } from "../../../reconciler/aws/preflight.ts";

describe("the STS preflight probe (at the SDK boundary)", () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());
  after(() => sts.restore());

  const credentials = async () => ({ accessKeyId: "AKIASOURCE", secretAccessKey: "s" });

  it("asks GetCallerIdentity in the target and, with the source role's credentials, in the source", async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolvesOnce({ Account: "222222222222", Arn: "arn:aws:sts::222222222222:assumed-role/deployer/x" })
      .resolvesOnce({ Account: "111111111111", Arn: "arn:aws:sts::111111111111:assumed-role/lambda-gitops-source/y" });
    const probe = stsPreflightProbe({ region: "eu-west-1", sourceCredentials: credentials });
    const result = await runPreflight(
      { ...probe, credentials: async () => ({}) },
      {},
    );
    expect(result).to.deep.equal({
      ok: true,
      region: "eu-west-1",
      target: { account: "222222222222", arn: "arn:aws:sts::222222222222:assumed-role/deployer/x" },
      source: { account: "111111111111", arn: "arn:aws:sts::111111111111:assumed-role/lambda-gitops-source/y" },
    });
    expect(sts.commandCalls(GetCallerIdentityCommand)).to.have.length(2);
  });

  it("AccessDenied while assuming the source role is one assume-role-denied problem", async () => {
    // The source role's AssumeRole fails while the SDK resolves credentials for the second call.
    const denied = Object.assign(new Error("not authorized to perform: sts:AssumeRole"), { name: "AccessDenied" });
    sts
      .on(GetCallerIdentityCommand)
      .resolvesOnce({ Account: "222222222222", Arn: "arn" })
      .rejectsOnce(denied);
    const probe = stsPreflightProbe({ region: "eu-west-1", sourceCredentials: credentials });
    const result = await runPreflight(
      { ...probe, credentials: async () => ({}) },
      { roleArn: "arn:aws:iam::111111111111:role/lambda-gitops-source" },
    );
    expect(!result.ok && [result.problem.stage, result.problem.kind], JSON.stringify(result)).to.deep.equal(["source", "assume-role-denied"]);
  });

  it("no source role: no second call", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: "222222222222", Arn: "arn" });
    const probe = stsPreflightProbe({ region: "eu-west-1" });
    expect(probe.sourceIdentity).to.equal(undefined);
    const result = await runPreflight({ ...probe, credentials: async () => ({}) }, {});
    expect(result.ok && result.source).to.equal(undefined);
    expect(sts.commandCalls(GetCallerIdentityCommand)).to.have.length(1);
  });
});
