import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { awsError } from "../../support/fixtures.ts";


describe("Lambda adapter: pruning calls at the SDK boundary", () => {
  const client = new LambdaClient({ region: "eu-west-1", maxAttempts: 1 });
  const lambda = mockClient(client);
  const adapter = createLambdaAdapter(client);
  afterEach(() => lambda.reset());
  after(() => lambda.restore());

  it("listVersions pages 50 at a time and maps each version", async () => {
    lambda
      .on(ListVersionsByFunctionCommand)
      .resolvesOnce({ Versions: [{ Version: "$LATEST", CodeSha256: "a" }], NextMarker: "m" })
      .resolvesOnce({ Versions: [{ Version: "1", CodeSha256: "b", Description: "1.0.0", LastModified: "2026-11-30" }] });
    expect(await adapter.listVersions("team-a-orders")).to.deep.equal([
      { functionVersion: "$LATEST", codeSha256: "a", description: "", lastModified: "" },
      { functionVersion: "1", codeSha256: "b", description: "1.0.0", lastModified: "2026-11-30" },
    ]);
    const inputs = lambda.commandCalls(ListVersionsByFunctionCommand).map((c) => c.args[0].input);
    // (the paginator reuses one input object, so only the last marker is visible on both)
    expect(inputs.map((i) => i.MaxItems)).to.deep.equal([50, 50]);
    expect(inputs[1]?.Marker).to.equal("m");
  });

  it("listVersions: a missing function is undefined; a throttle is an error", async () => {
    lambda
      .on(ListVersionsByFunctionCommand)
      .rejectsOnce(awsError("ResourceNotFoundException", "ResourceNotFoundException", 404))
      .rejects(awsError("TooManyRequestsException", "TooManyRequestsException", 429));
    expect(await adapter.listVersions("gone")).to.equal(undefined);
    let error: unknown;
    await adapter.listVersions("x").catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(/ListVersionsByFunction failed: TooManyRequestsException/);
  });

  it("deleteVersion always sends a numeric Qualifier and refuses anything else before calling AWS", async () => {
    lambda.on(DeleteFunctionCommand).resolves({});
    expect(await adapter.deleteVersion("team-a-orders", "7")).to.deep.equal({ kind: "deleted" });
    expect(lambda.commandCalls(DeleteFunctionCommand)[0]!.args[0].input).to.deep.equal({
      FunctionName: "team-a-orders",
      Qualifier: "7",
    });
    for (const bad of ["", "$LATEST", "LIVE", "1-0-0", "7 "]) {
      let error: unknown;
      await adapter.deleteVersion("team-a-orders", bad).catch((e: unknown) => (error = e));
      expect(String(error), JSON.stringify(bad)).to.match(/only a published version number can be deleted/);
    }
    expect(lambda.commandCalls(DeleteFunctionCommand)).to.have.length(1);
  });

  it("deleteVersion: a version an alias references is a value; gone is absent; other errors throw", async () => {
    lambda
      .on(DeleteFunctionCommand)
      .rejectsOnce(awsError("ResourceConflictException", "ResourceConflictException", 409))
      .rejectsOnce(awsError("ResourceNotFoundException", "ResourceNotFoundException", 404))
      .rejects(awsError("AccessDeniedException", "AccessDeniedException", 403));
    expect((await adapter.deleteVersion("f", "3")).kind).to.equal("referenced");
    expect(await adapter.deleteVersion("f", "3")).to.deep.equal({ kind: "absent" });
    let error: unknown;
    await adapter.deleteVersion("f", "3").catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(/DeleteFunction failed: AccessDeniedException/);
  });

  it("deleteAlias: deleted, or absent when already gone", async () => {
    lambda.on(DeleteAliasCommand).resolvesOnce({}).rejectsOnce(awsError("ResourceNotFoundException", "ResourceNotFoundException", 404));
    expect(await adapter.deleteAlias("f", "1-0-0")).to.equal("deleted");
    expect(await adapter.deleteAlias("f", "1-0-0")).to.equal("absent");
  });
});
