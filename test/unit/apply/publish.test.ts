/**
 * The publish executor at the SDK boundary (aws-sdk-client-mock): moto ignores RevisionId and the
 * Architectures of UpdateFunctionCode, so the guards every write carries are asserted here.
 */
import {
  CreateAliasCommand,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { applyPublish, applyPublishPlan, type PublishDeps } from "../../../reconciler/apply/publish.ts";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import type { PublishPlanEntry, PublishStep } from "../../../reconciler/plan/publish.ts";
import { awsError } from "../../support/fixtures.ts";

const NAME = "team-a-orders";
const SHA = "bmV3LXNoYQ==";
const BYTES = new Uint8Array([80, 75, 5, 6]);
const LAYER = "arn:aws:lambda:us-east-1:111111111111:layer:shared:3";

const config = (o: Record<string, unknown> = {}): FunctionConfiguration =>
  ({
    FunctionName: NAME,
    Version: "$LATEST",
    PackageType: "Zip",
    CodeSha256: SHA,
    CodeSize: 4,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Architectures: ["arm64"],
    RevisionId: "rev-after-wait",
    State: "Active",
    LastUpdateStatus: "Successful",
    ...o,
  }) as FunctionConfiguration;

function entry(steps: PublishStep[], revisionId = "rev-observed"): PublishPlanEntry {
  return {
    function: NAME,
    version: "1.4.2",
    alias: "1-4-2",
    codeSha256: SHA,
    decision: { kind: "publish", revisionId, steps },
  };
}

const FULL: PublishStep[] = [
  { kind: "configure", runtime: "nodejs22.x", layers: [LAYER] },
  { kind: "wait" },
  { kind: "update-code", codeSha256: SHA, architectures: ["arm64"] },
  { kind: "wait" },
  { kind: "publish", codeSha256: SHA, description: "lambda-gitops 1.4.2: commit abc" },
  { kind: "create-alias", alias: "1-4-2" },
];

describe("publish executor (SDK boundary mocked)", () => {
  const client = new LambdaClient({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  const lambda = mockClient(client);
  let replans: PublishPlanEntry[];
  let replanWith: () => PublishPlanEntry;

  const deps = (over: Partial<PublishDeps> = {}): PublishDeps => ({
    lambda: createLambdaAdapter(client),
    concurrency: 4,
    upload: async () => ({ zipFile: BYTES }),
    replan: async (e) => {
      replans.push(e);
      return replanWith();
    },
    logger: silentLogger,
    sleep: async () => {},
    wait: { minDelay: 0.001, maxDelay: 0.002, maxWaitTime: 5 },
    ...over,
  });

  beforeEach(() => {
    lambda.reset();
    replans = [];
    replanWith = () => entry(FULL);
  });

  /** Every mutating call, in order, with the inputs that matter. */
  const writes = () =>
    lambda
      .calls()
      .map((c) => c.args[0].constructor.name + " " + JSON.stringify(c.args[0].input))
      .filter((line) => !/^Get/.test(line));

  it("runs the steps in order; every write carries the RevisionId its predecessor left, PublishVersion the CodeSha256", async () => {
    lambda.on(UpdateFunctionConfigurationCommand).resolves(config({ RevisionId: "rev-configured", LastUpdateStatus: "InProgress" }));
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Configuration: config({ RevisionId: "rev-2" }) })
      .resolves({ Configuration: config({ RevisionId: "rev-4" }) });
    lambda.on(UpdateFunctionCodeCommand).resolves(config({ RevisionId: "rev-3", LastUpdateStatus: "InProgress" }));
    lambda.on(PublishVersionCommand).resolves(config({ Version: "7" }));
    lambda.on(CreateAliasCommand).resolves({ Name: "1-4-2", FunctionVersion: "7" });

    const result = await applyPublish(entry(FULL), deps());

    expect(result).to.deep.equal({
      function: NAME,
      version: "1.4.2",
      alias: "1-4-2",
      functionVersion: "7",
      codeSha256: SHA,
      action: "published",
    });
    const input = <T>(command: new (...args: never[]) => T) => lambda.commandCalls(command as never)[0]!.args[0].input;
    expect(input(UpdateFunctionConfigurationCommand)).to.deep.include({
      FunctionName: NAME,
      Runtime: "nodejs22.x",
      Layers: [LAYER],
      RevisionId: "rev-observed",
    });
    expect(input(UpdateFunctionCodeCommand)).to.deep.include({
      ZipFile: BYTES,
      Architectures: ["arm64"],
      RevisionId: "rev-2",
    });
    expect(input(PublishVersionCommand)).to.deep.equal({
      FunctionName: NAME,
      CodeSha256: SHA,
      RevisionId: "rev-4",
      Description: "lambda-gitops 1.4.2: commit abc",
    });
    expect(input(CreateAliasCommand)).to.deep.include({ Name: "1-4-2", FunctionVersion: "7", RoutingConfig: { AdditionalVersionWeights: {} } });
    expect(writes().map((w) => w.split(" ")[0])).to.deep.equal([
      "UpdateFunctionConfigurationCommand",
      "UpdateFunctionCodeCommand",
      "PublishVersionCommand",
      "CreateAliasCommand",
    ]);
  });

  it("a RevisionId precondition failure re-observes and re-plans once, then runs the fresh plan", async () => {
    lambda
      .on(UpdateFunctionCodeCommand)
      .rejectsOnce(awsError("PreconditionFailedException", "The Revision Id provided does not match", 412))
      .resolves(config());
    lambda.on(GetFunctionCommand).resolves({ Configuration: config() });
    lambda.on(PublishVersionCommand).resolves(config({ Version: "8" }));
    lambda.on(CreateAliasCommand).resolves({ Name: "1-4-2", FunctionVersion: "8" });
    replanWith = () => entry(FULL.slice(2), "rev-fresh");

    const result = await applyPublish(entry(FULL.slice(2)), deps());

    expect(result.action).to.equal("published");
    expect(replans).to.have.length(1);
    const codeCalls = lambda.commandCalls(UpdateFunctionCodeCommand).map((c) => c.args[0].input.RevisionId);
    expect(codeCalls).to.deep.equal(["rev-observed", "rev-fresh"]);
  });

  it("a CodeSha256 mismatch on PublishVersion (InvalidParameterValueException) counts as a concurrent change, twice: failed, no alias", async () => {
    lambda
      .on(PublishVersionCommand)
      .rejects(awsError("InvalidParameterValueException", "CodeSHA256 (x) is different from current CodeSHA256 in $LATEST (y)."));
    replanWith = () => entry(FULL.slice(4));

    const result = await applyPublish(entry(FULL.slice(4)), deps());

    expect(result.action).to.equal("failed");
    expect(result.error).to.match(/changed by someone else.*twice/);
    expect(replans).to.have.length(1);
    expect(lambda.commandCalls(CreateAliasCommand)).to.have.length(0);
  });

  it("when $LATEST ends up with other code than was hashed (the S3 object changed), nothing is published", async () => {
    lambda.on(UpdateFunctionCodeCommand).resolves(config({ CodeSha256: "b3RoZXI=" }));

    const result = await applyPublish(entry(FULL.slice(2)), deps({ upload: async () => ({ s3: { bucket: "b", key: "k" } }) }));

    expect(result.action).to.equal("failed");
    expect(result.error).to.include("changed after it was hashed");
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input).to.deep.include({ S3Bucket: "b", S3Key: "k" });
    expect(lambda.commandCalls(PublishVersionCommand)).to.have.length(0);
  });

  it("a version alias created meanwhile with the same code is accepted; with other code it fails", async () => {
    lambda.on(PublishVersionCommand).resolves(config({ Version: "7" }));
    lambda.on(CreateAliasCommand).rejects(awsError("ResourceConflictException", "Alias already exists", 409));
    lambda.on(GetAliasCommand).resolves({ Name: "1-4-2", FunctionVersion: "6", RevisionId: "a" });
    lambda.on(GetFunctionCommand, { FunctionName: NAME, Qualifier: "6" }).resolves({ Configuration: config({ Version: "6" }) });
    const same = await applyPublish(entry(FULL.slice(4)), deps());
    expect(same).to.include({ action: "published", functionVersion: "6" });

    lambda.on(GetFunctionCommand, { FunctionName: NAME, Qualifier: "6" }).resolves({
      Configuration: config({ Version: "6", CodeSha256: "b3RoZXI=" }),
    });
    const other = await applyPublish(entry(FULL.slice(4)), deps());
    expect(other.action).to.equal("failed");
    expect(other.error).to.include("b3RoZXI=");
  });

  it("unchanged and refused entries make no call at all; results keep the manifest's order", async () => {
    const base = { function: NAME, version: "1.4.2", alias: "1-4-2", codeSha256: SHA };
    const results = await applyPublishPlan(
      [
        { ...base, decision: { kind: "unchanged", functionVersion: "5" } },
        { ...base, function: "team-a-b", decision: { kind: "refused", code: "code-differs", reason: "bump the version" } },
      ],
      deps(),
    );
    expect(results.map((r) => [r.function, r.action, r.functionVersion, r.error])).to.deep.equal([
      [NAME, "unchanged", "5", undefined],
      ["team-a-b", "refused", null, "bump the version"],
    ]);
    expect(lambda.calls()).to.have.length(0);
  });
});
