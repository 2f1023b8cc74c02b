/** The Lambda adapter's code-signing read (GetFunctionCodeSigningConfig, GetCodeSigningConfig) at the SDK boundary. */
import {
  GetCodeSigningConfigCommand,
  GetFunctionCodeSigningConfigCommand,
  LambdaClient,
  ListCodeSigningConfigsCommand,
  ListFunctionsByCodeSigningConfigCommand,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { noCodeSigning } from "../../../reconciler/observe/state.ts";

const client = new LambdaClient({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const lambda = mockClient(client);
const ARN = "arn:aws:lambda:eu-west-1:222222222222:code-signing-config:csc-0123456789abcdef0";

describe("aws/lambda: listCodeSigning (once per account)", () => {
  beforeEach(() => lambda.reset());

  it("lists the configurations and the functions each covers: 1 + one call per configuration", async () => {
    const OTHER = `${ARN.slice(0, -1)}1`;
    lambda.on(ListCodeSigningConfigsCommand).resolves({
      CodeSigningConfigs: [
        {
          CodeSigningConfigId: "a",
          CodeSigningConfigArn: ARN,
          AllowedPublishers: { SigningProfileVersionArns: [] },
          CodeSigningPolicies: { UntrustedArtifactOnDeployment: "Enforce" },
          LastModified: "x",
        },
        {
          CodeSigningConfigId: "b",
          CodeSigningConfigArn: OTHER,
          AllowedPublishers: { SigningProfileVersionArns: [] },
          CodeSigningPolicies: {},
          LastModified: "x",
        },
      ],
    });
    lambda
      .on(ListFunctionsByCodeSigningConfigCommand, { CodeSigningConfigArn: ARN })
      .resolves({ FunctionArns: ["arn:aws:lambda:eu-west-1:222222222222:function:team-a-orders"] });
    lambda.on(ListFunctionsByCodeSigningConfigCommand, { CodeSigningConfigArn: OTHER }).resolves({ FunctionArns: [] });
    const index = await createLambdaAdapter(client).listCodeSigning();
    expect([...index.byFunction]).to.deep.equal([["team-a-orders", ARN]]);
    expect(index.configs.get(ARN)).to.deep.equal({ configArn: ARN, untrustedArtifactOnDeployment: "Enforce" });
    expect(index.configs.get(OTHER)).to.deep.equal({ configArn: OTHER, untrustedArtifactOnDeployment: "Warn" });
    expect(lambda.calls()).to.have.length(3);
  });

  it("the per-function check takes the policy from the index: one call, no GetCodeSigningConfig", async () => {
    lambda.on(GetFunctionCodeSigningConfigCommand).resolves({ CodeSigningConfigArn: ARN, FunctionName: "f" });
    const known = noCodeSigning();
    known.configs.set(ARN, { configArn: ARN, untrustedArtifactOnDeployment: "Enforce" });
    known.byFunction.set("f", ARN);
    expect(await createLambdaAdapter(client).getCodeSigning("f", known)).to.deep.equal({
      configArn: ARN,
      untrustedArtifactOnDeployment: "Enforce",
    });
    expect(lambda.calls()).to.have.length(1);
  });

  it("throws a listing failure (fails closed: never 'no code signing')", async () => {
    lambda.on(ListCodeSigningConfigsCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const error = await createLambdaAdapter(client)
      .listCodeSigning()
      .then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/ListCodeSigningConfigs failed: AccessDeniedException/);
  });
});

describe("aws/lambda: getCodeSigning", () => {
  beforeEach(() => lambda.reset());

  it("answers undefined for a function without a code-signing configuration (one call)", async () => {
    lambda.on(GetFunctionCodeSigningConfigCommand).resolves({ CodeSigningConfigArn: "", FunctionName: "f" });
    expect(await createLambdaAdapter(client).getCodeSigning("f", noCodeSigning())).to.equal(undefined);
    expect(lambda.commandCalls(GetCodeSigningConfigCommand)).to.have.length(0);
  });

  for (const policy of ["Enforce", "Warn", undefined] as const) {
    it(`reads the configuration's deployment policy (${policy ?? "absent: Lambda's default Warn"})`, async () => {
      lambda.on(GetFunctionCodeSigningConfigCommand).resolves({ CodeSigningConfigArn: ARN, FunctionName: "f" });
      lambda.on(GetCodeSigningConfigCommand, { CodeSigningConfigArn: ARN }).resolves({
        CodeSigningConfig: {
          CodeSigningConfigId: "csc-0123456789abcdef0",
          CodeSigningConfigArn: ARN,
          AllowedPublishers: { SigningProfileVersionArns: [] },
          CodeSigningPolicies: policy ? { UntrustedArtifactOnDeployment: policy } : {},
          LastModified: "2026-01-01T00:00:00Z",
        },
      });
      expect(await createLambdaAdapter(client).getCodeSigning("f", noCodeSigning())).to.deep.equal({
        configArn: ARN,
        untrustedArtifactOnDeployment: policy ?? "Warn",
      });
    });
  }

  it("throws a read failure (AccessDenied is not 'no code signing')", async () => {
    lambda.on(GetFunctionCodeSigningConfigCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const error = await createLambdaAdapter(client)
      .getCodeSigning("f", noCodeSigning())
      .then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/GetFunctionCodeSigningConfig failed: AccessDeniedException/);
  });
});
