import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListProvisionedConcurrencyConfigsCommand,
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

  it("listEventSourceMappings asks by FunctionName, pages, and keeps each mapping's UUID and (qualified) FunctionArn", async () => {
    const arn = "arn:aws:lambda:eu-west-1:111111111111:function:team-a-orders";
    lambda
      .on(ListEventSourceMappingsCommand)
      .resolvesOnce({ EventSourceMappings: [{ UUID: "u-1", FunctionArn: `${arn}:3`, State: "Enabled" }], NextMarker: "m" })
      .resolvesOnce({ EventSourceMappings: [{ UUID: "u-2", FunctionArn: `${arn}:LIVE`, State: "Disabled" }] });
    expect(await adapter.listEventSourceMappings("team-a-orders")).to.deep.equal([
      { uuid: "u-1", functionArn: `${arn}:3`, state: "Enabled" },
      { uuid: "u-2", functionArn: `${arn}:LIVE`, state: "Disabled" },
    ]);
    const inputs = lambda.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.FunctionName)).to.deep.equal(["team-a-orders", "team-a-orders"]);
    expect(inputs[1]?.Marker).to.equal("m");
  });

  it("listProvisionedConcurrency pages and keeps each configuration's qualified FunctionArn", async () => {
    const arn = "arn:aws:lambda:eu-west-1:111111111111:function:team-a-orders";
    lambda
      .on(ListProvisionedConcurrencyConfigsCommand)
      .resolvesOnce({ ProvisionedConcurrencyConfigs: [{ FunctionArn: `${arn}:4` }], NextMarker: "m" })
      .resolvesOnce({ ProvisionedConcurrencyConfigs: [{ FunctionArn: `${arn}:LIVE` }] });
    expect(await adapter.listProvisionedConcurrency("team-a-orders")).to.deep.equal([`${arn}:4`, `${arn}:LIVE`]);
    expect(lambda.commandCalls(ListProvisionedConcurrencyConfigsCommand)[0]!.args[0].input.FunctionName).to.equal("team-a-orders");
  });

  it("the invoker listings: a missing function lists nothing; any other error throws (prune then deletes nothing)", async () => {
    lambda
      .on(ListEventSourceMappingsCommand)
      .rejectsOnce(awsError("ResourceNotFoundException", "ResourceNotFoundException", 404))
      .rejects(awsError("AccessDeniedException", "not authorized to perform: lambda:ListEventSourceMappings", 403));
    lambda
      .on(ListProvisionedConcurrencyConfigsCommand)
      .rejects(awsError("AccessDeniedException", "not authorized to perform: lambda:ListProvisionedConcurrencyConfigs", 403));
    expect(await adapter.listEventSourceMappings("gone")).to.deep.equal([]);
    const failed = async (call: () => Promise<unknown>) => {
      let error: unknown;
      await call().catch((e: unknown) => (error = e));
      return (error as Error | undefined)?.message ?? "";
    };
    expect(await failed(() => adapter.listEventSourceMappings("x"))).to.match(/ListEventSourceMappings failed: AccessDeniedException/);
    expect(await failed(() => adapter.listProvisionedConcurrency("x"))).to.match(/ListProvisionedConcurrencyConfigs failed: AccessDeniedException/);
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
