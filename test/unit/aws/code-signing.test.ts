/** The Lambda adapter's code-signing read (GetFunctionCodeSigningConfig, GetCodeSigningConfig) at the SDK boundary. */
import {
  GetCodeSigningConfigCommand,
  GetFunctionCodeSigningConfigCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";

const client = new LambdaClient({ region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
const lambda = mockClient(client);
const ARN = "arn:aws:lambda:eu-west-1:222222222222:code-signing-config:csc-0123456789abcdef0";

describe("aws/lambda: getCodeSigning", () => {
  beforeEach(() => lambda.reset());

  it("answers undefined for a function without a code-signing configuration (one call)", async () => {
    lambda.on(GetFunctionCodeSigningConfigCommand).resolves({ CodeSigningConfigArn: "", FunctionName: "f" });
    expect(await createLambdaAdapter(client).getCodeSigning("f")).to.equal(undefined);
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
      expect(await createLambdaAdapter(client).getCodeSigning("f")).to.deep.equal({
        configArn: ARN,
        untrustedArtifactOnDeployment: policy ?? "Warn",
      });
    });
  }

  it("throws a read failure (AccessDenied is not 'no code signing')", async () => {
    lambda.on(GetFunctionCodeSigningConfigCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const error = await createLambdaAdapter(client)
      .getCodeSigning("f")
      .then(() => undefined, (e: unknown) => e);
    expect((error as Error).message).to.match(/GetFunctionCodeSigningConfig failed: AccessDeniedException/);
  });
});
