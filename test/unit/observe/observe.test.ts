import {
  GetFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  LambdaServiceException,
  ListAliasesCommand,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { observeFunction } from "../../../reconciler/observe/observe.ts";
import { spec } from "../../support/fixtures.ts";

const NAME = "team-a-orders";
const awsError = (name: string, status: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe("observe (SDK boundary mocked): only ResourceNotFoundException means absent", () => {
  const targetClient = new LambdaClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  const sourceClient = new LambdaClient({ region: "us-east-1", credentials: { accessKeyId: "c", secretAccessKey: "d" } });
  const target = mockClient(targetClient);
  const source = mockClient(sourceClient);
  const options = (withSource = true) => ({
    target: createLambdaAdapter(targetClient),
    source: withSource ? { reader: createLambdaAdapter(sourceClient), accountId: "111111111111" } : undefined,
    liveAlias: "LIVE",
    concurrency: 1,
  });
  const aliases = (list: [string, string][]) => ({
    Aliases: list.map(([Name, FunctionVersion]) => ({ Name, FunctionVersion, RevisionId: `rev-${Name}` })),
  });

  beforeEach(() => {
    target.reset();
    source.reset();
  });

  it("a no-op costs exactly one control-plane call and nothing in the source account", async () => {
    target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"], ["1-1-1", "3"]]));
    const observed = await observeFunction(spec(NAME, "1.1.1"), options());
    expect(observed.kind).to.equal("observed");
    expect(target.calls().map((c) => c.args[0].constructor.name)).to.deep.equal(["ListAliasesCommand"]);
    expect(source.calls()).to.have.length(0);
  });

  it("a function that does not exist is 'missing-function'", async () => {
    target.on(ListAliasesCommand).rejects(awsError("ResourceNotFoundException", 404));
    expect(await observeFunction(spec(NAME, "1.1.1"), options())).to.deep.equal({ kind: "missing-function" });
  });

  for (const [name, status] of [
    ["TooManyRequestsException", 429],
    ["AccessDeniedException", 403],
    ["ServiceException", 500],
  ] as const) {
    it(`${name} on the target is a failed observation, never "absent"`, async () => {
      target.on(ListAliasesCommand).rejects(awsError(name, status));
      const observed = await observeFunction(spec(NAME, "1.1.1"), options());
      expect(observed.kind).to.equal("failed");
      if (observed.kind === "failed") expect(observed.message).to.contain(name);
    });

    it(`${name} in the source account is "unreadable", never "missing"`, async () => {
      target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"]]));
      target.on(GetFunctionCommand).resolves({ Configuration: { Version: "$LATEST", RevisionId: "r" } });
      source.on(GetFunctionCommand).rejects(awsError(name, status));
      const observed = await observeFunction(spec(NAME, "1.2.0"), options());
      if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
      expect(observed.versions["1.2.0"]?.where).to.equal("unreadable");
    });
  }

  it("reads the source only for a version missing here, by its version alias", async () => {
    target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"], ["1-1-1", "3"]]));
    target.on(GetFunctionCommand).resolves({ Configuration: { Version: "$LATEST", RevisionId: "r", PackageType: "Zip" } });
    source.on(GetFunctionCommand).resolves({ Configuration: { Version: "9", CodeSha256: "abc=", PackageType: "Zip" } });
    const observed = await observeFunction(spec(NAME, "1.2.0-rc.1"), options());
    if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
    expect(source.commandCalls(GetFunctionCommand)[0]?.args[0].input).to.deep.equal({ FunctionName: NAME, Qualifier: "1-2-0_rc-1" });
    expect(observed.versions["1.2.0-rc.1"]?.where).to.equal("source");
    // $LATEST is read (GetFunction, its own quota) because a promotion needs its RevisionId.
    expect(target.commandCalls(GetFunctionCommand)[0]?.args[0].input).to.deep.equal({ FunctionName: NAME, Qualifier: undefined });
  });

  it("a version absent in the source (ResourceNotFoundException) is 'nowhere', checked", async () => {
    target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"]]));
    source.on(GetFunctionCommand).rejects(awsError("ResourceNotFoundException", 404));
    const observed = await observeFunction(spec(NAME, "9.9.9"), options());
    if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
    expect(observed.versions["9.9.9"]).to.deep.equal({ where: "nowhere", sourceChecked: true });
  });

  it("without a source account a missing version is 'nowhere', unchecked, and no call is made there", async () => {
    target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"]]));
    const observed = await observeFunction(spec(NAME, "9.9.9"), options(false));
    if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
    expect(observed.versions["9.9.9"]).to.deep.equal({ where: "nowhere", sourceChecked: false });
    expect(source.calls()).to.have.length(0);
  });

  it("a canary reads the configuration of both versions (role and dead-letter check)", async () => {
    target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"], ["1-1-1", "3"], ["1-2-0", "4"]]));
    target.on(GetFunctionCommand).resolves({ Configuration: { Version: "$LATEST", RevisionId: "r", Role: "arn:role" } });
    const observed = await observeFunction(spec(NAME, "1.1.1", { version: "1.2.0", weight: 10 }), options());
    if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
    const qualifiers = target.commandCalls(GetFunctionCommand).map((c) => c.args[0].input.Qualifier);
    expect(qualifiers).to.deep.equal([undefined, "3", "4"]);
    expect(source.calls()).to.have.length(0);
  });

  describe("provisioned concurrency on LIVE (read only when a canary is declared)", () => {
    const notFound = () =>
      new LambdaServiceException({
        name: "ProvisionedConcurrencyConfigNotFoundException",
        message: "No Provisioned Concurrency Config found for this function",
        $fault: "client",
        $metadata: { httpStatusCode: 404 },
      });
    beforeEach(() => {
      target.on(ListAliasesCommand).resolves(aliases([["LIVE", "3"], ["1-1-1", "3"], ["1-2-0", "4"]]));
      target.on(GetFunctionCommand).resolves({ Configuration: { Version: "$LATEST", RevisionId: "r", Role: "arn:role" } });
    });
    const canary = () => observeFunction(spec(NAME, "1.1.1", { version: "1.2.0", weight: 10 }), options());

    it("reads GetProvisionedConcurrencyConfig on LIVE and reports the requested amount", async () => {
      target.on(GetProvisionedConcurrencyConfigCommand).resolves({ RequestedProvisionedConcurrentExecutions: 5 });
      const observed = await canary();
      if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
      expect(observed.liveProvisionedConcurrency).to.equal(5);
      expect(target.commandCalls(GetProvisionedConcurrencyConfigCommand).map((c) => c.args[0].input)).to.deep.equal([
        { FunctionName: NAME, Qualifier: "LIVE" },
      ]);
    });

    it("ProvisionedConcurrencyConfigNotFoundException means none", async () => {
      target.on(GetProvisionedConcurrencyConfigCommand).rejects(notFound());
      const observed = await canary();
      if (observed.kind !== "observed") throw new Error(`expected observed, got ${observed.kind}`);
      expect(observed).to.not.have.property("liveProvisionedConcurrency");
    });

    it("any other error fails the observation (fail closed), naming the call", async () => {
      target.on(GetProvisionedConcurrencyConfigCommand).rejects(
        new LambdaServiceException({ name: "AccessDeniedException", message: "denied", $fault: "client", $metadata: { httpStatusCode: 403 } }),
      );
      const observed = await canary();
      expect(observed.kind).to.equal("failed");
      if (observed.kind === "failed") expect(observed.message).to.match(/GetProvisionedConcurrencyConfig failed: AccessDeniedException/);
    });

    it("is not read for a function without a canary", async () => {
      await observeFunction(spec(NAME, "1.1.1"), options());
      expect(target.commandCalls(GetProvisionedConcurrencyConfigCommand)).to.have.length(0);
    });
  });
});
