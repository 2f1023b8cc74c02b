import {
  CreateAliasCommand,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { findLive } from "../../../reconciler/observe/live.ts";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createLambdaAdapter } from "../../../reconciler/aws/lambda.ts";
import { type ApplyDeps, applyFunction, applyPlan, fails } from "../../../reconciler/apply/apply.ts";
import { decodeMarker, encodeMarker } from "../../../reconciler/observe/marker.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { type PlanEntry, planFunction, stepsOf } from "../../../reconciler/plan/plan.ts";
import { alias, awsError, fnState, spec } from "../../support/fixtures.ts";
import type { FunctionState } from "../../../reconciler/observe/state.ts";

const NAME = "team-a-orders";
const SRC_SHA = "c3JjLXNoYQ==";
const BYTES = new Uint8Array([80, 75, 5, 6]);

const SCOPE = { account: "target", region: "us-east-1" };

/** A rollback from 1.1.1 (v3) to 1.0.0 (v2), planned by the planner from what it observed. */
function repointEntry(
  live: { functionVersion?: string; weights?: Record<string, number>; revisionId?: string } | null = {},
): PlanEntry {
  const liveAlias =
    live === null
      ? undefined
      : alias("LIVE", live.functionVersion ?? "3", live.weights ?? {}, live.revisionId ?? "live-rev-1");
  const aliases = [alias("1-0-0", "2"), alias("1-1-1", "3"), ...(liveAlias ? [liveAlias] : [])];
  return planFunction(
    spec(NAME, "1.0.0"),
    {
      kind: "observed",
      live: findLive(aliases, "LIVE"),
      aliases,
      versions: { "1.0.0": { where: "target", alias: aliases[0]! } },
      latest: undefined,
    },
    "LIVE",
    SCOPE,
  );
}

/** A promotion of 1.2.0 (v9 in the source account) while LIVE serves 1.1.1 (v3). */
function promoteEntry(latestSha = "old-sha", latest: Partial<FunctionState> = {}): PlanEntry {
  const live = alias("LIVE", "3", {}, "live-rev-1");
  return planFunction(
    spec(NAME, "1.2.0"),
    {
      kind: "observed",
      live: findLive([alias("1-1-1", "3"), live], "LIVE"),
      aliases: [alias("1-1-1", "3"), live],
      versions: {
        "1.2.0": {
          where: "source",
          sourceAccount: "111111111111",
          source: fnState({ functionVersion: "9", codeSha256: SRC_SHA, codeSize: 4 }),
        },
      },
      latest: fnState({ revisionId: "latest-rev-1", codeSha256: latestSha, ...latest }),
    },
    "LIVE",
    SCOPE,
  );
}

/** Someone else promoted 1.2.0 as v12 meanwhile: the fresh plan only moves LIVE (RevisionId now live-rev-2). */
function rollforwardEntry(): PlanEntry {
  const live = alias("LIVE", "3", {}, "live-rev-2");
  const aliases = [alias("1-1-1", "3"), alias("1-2-0", "12"), live];
  return planFunction(
    spec(NAME, "1.2.0"),
    { kind: "observed", live: findLive(aliases, "LIVE"), aliases, versions: { "1.2.0": { where: "target", alias: aliases[1]! } }, latest: undefined },
    "LIVE",
    SCOPE,
  );
}

/** LIVE as UpdateAlias / CreateAlias answer it: the alias as it now is. */
const liveAnswer = (functionVersion: string, weights: Record<string, number> = {}) => ({
  Name: "LIVE",
  FunctionVersion: functionVersion,
  RoutingConfig: { AdditionalVersionWeights: weights },
  RevisionId: `live-rev-after-${functionVersion}`,
});

const config = (o: Record<string, unknown> = {}): FunctionConfiguration =>
  ({
    FunctionName: NAME,
    Version: "$LATEST",
    PackageType: "Zip",
    CodeSha256: SRC_SHA,
    CodeSize: 4,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Architectures: ["x86_64"],
    Role: "arn:aws:iam::222222222222:role/exec",
    RevisionId: "latest-rev-2",
    State: "Active",
    LastUpdateStatus: "Successful",
    ...o,
  }) as FunctionConfiguration;

describe("apply (SDK boundary mocked with aws-sdk-client-mock)", () => {
  const targetClient = new LambdaClient({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const sourceClient = new LambdaClient({
    region: "us-east-1",
    credentials: { accessKeyId: "c", secretAccessKey: "d" },
  });
  const target = mockClient(targetClient);
  const source = mockClient(sourceClient);
  let downloads: string[];
  let sleeps: number[];
  let replans: number;
  let replanWith: () => PlanEntry;

  const deps = (over: Partial<ApplyDeps> = {}): ApplyDeps => ({
    target: createLambdaAdapter(targetClient),
    source: { reader: createLambdaAdapter(sourceClient), accountId: "111111111111" },
    liveAlias: "LIVE",
    concurrency: 4,
    download: async (url, expected) => {
      downloads.push(url);
      return expected.codeSha256 === SRC_SHA
        ? { ok: true, bytes: BYTES }
        : { ok: false, message: "hash mismatch" };
    },
    replan: async () => {
      replans += 1;
      return replanWith();
    },
    logger: silentLogger,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    wait: { minDelay: 0.001, maxDelay: 0.002, maxWaitTime: 5 },
    ...over,
  });

  beforeEach(() => {
    target.reset();
    source.reset();
    downloads = [];
    sleeps = [];
    replans = 0;
    replanWith = () => repointEntry({ revisionId: "live-rev-2" });
    source
      .on(GetFunctionCommand)
      .resolves({ Configuration: config({ Version: "9" }), Code: { Location: "https://code.example/pkg" } });
    target.on(UpdateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("2"));
    target.on(CreateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("2"));
  });

  const commandsOf = (mock: typeof target) => mock.calls().map((c) => c.args[0].constructor.name);

  describe("repoint (rollback / rollforward)", () => {
    it("moves LIVE guarded by the planned RevisionId, clears weights, writes the marker, in one call", async () => {
      const entry = repointEntry({ weights: { "4": 0.1 } });
      const result = await applyFunction(entry, deps());
      expect(result.status).to.equal("applied");
      expect(result.functionVersion).to.equal("2");
      expect(target.commandCalls(UpdateAliasCommand)[0]?.args[0].input).to.deep.include({
        FunctionName: NAME,
        Name: "LIVE",
        FunctionVersion: "2",
        RevisionId: "live-rev-1",
        RoutingConfig: { AdditionalVersionWeights: {} },
      });
      const description = target.commandCalls(UpdateAliasCommand)[0]?.args[0].input.Description;
      expect(decodeMarker(description)).to.deep.equal({ version: "1.0.0", functionVersion: "2", weights: {}, fromFunctionVersion: "3" });
      // The description written is the one the plan shows.
      const route = stepsOf(entry).find((s) => s.kind === "route");
      expect(route?.description).to.equal(description);
      // The UpdateAlias answer is the read-back: no GetAlias.
      expect(commandsOf(target)).to.deep.equal(["UpdateAliasCommand"]);
      expect(result.steps).to.deep.equal([
        { kind: "route", alias: "LIVE", routing: { functionVersion: "2", weights: {} }, description, changed: true },
      ]);
    });

    it("waits for provisioned concurrency's transient weights on the previous version to clear, without rewriting them", async () => {
      target.on(UpdateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("2", { "3": 0.8 }));
      target
        .on(GetAliasCommand, { Name: "LIVE" })
        .resolvesOnce(liveAnswer("2", { "3": 0.3 }))
        .resolves(liveAnswer("2"));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status, result.error).to.equal("applied");
      expect(commandsOf(target)).to.deep.equal(["UpdateAliasCommand", "GetAliasCommand", "GetAliasCommand"]);
      expect(sleeps.length, "one delay per poll").to.equal(2);
    });

    it("still fails on weights that are not a shift from the previous version", async () => {
      target.on(UpdateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("2", { "7": 0.5 }));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/reads back as v2/);
      expect(target.commandCalls(GetAliasCommand)).to.have.length(0);
    });

    it("creates LIVE when it does not exist yet", async () => {
      const result = await applyFunction(repointEntry(null), deps());
      expect(result.status).to.equal("applied");
      expect(target.commandCalls(CreateAliasCommand)[0]?.args[0].input).to.deep.include({
        Name: "LIVE",
        FunctionVersion: "2",
      });
      expect(decodeMarker(target.commandCalls(CreateAliasCommand)[0]?.args[0].input.Description)).to.deep.include({
        version: "1.0.0",
        functionVersion: "2",
      });
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
      expect(commandsOf(target)).to.deep.equal(["CreateAliasCommand"]);
    });

    it("re-plans once on PreconditionFailedException and applies the fresh plan", async () => {
      target
        .on(UpdateAliasCommand)
        .rejectsOnce(awsError("PreconditionFailedException", "The Revision Id provided does not match", 412))
        .resolves(liveAnswer("2"));
      const result = await applyFunction(repointEntry(), deps());
      expect(replans).to.equal(1);
      expect(result.status).to.equal("applied");
      expect(result.replanned).to.equal(true);
      expect(result.functionVersion).to.equal("2");
      const revisions = target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId);
      expect(revisions).to.deep.equal(["live-rev-1", "live-rev-2"]);
    });

    it("fails the function with a clear message when the precondition fails twice", async () => {
      target
        .on(UpdateAliasCommand)
        .rejects(awsError("PreconditionFailedException", "revision mismatch", 412));
      const result = await applyFunction(repointEntry(), deps());
      expect(replans).to.equal(1);
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/changed by someone else while this run applied it, twice/);
    });

    it("retries ResourceConflictException with the named capped policy", async () => {
      target
        .on(UpdateAliasCommand)
        .rejectsOnce(awsError("ResourceConflictException", "An update is in progress", 409))
        .rejectsOnce(awsError("ResourceConflictException", "An update is in progress", 409))
        .rejectsOnce(awsError("ResourceConflictException", "An update is in progress", 409))
        .resolves(liveAnswer("2"));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status).to.equal("applied");
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(4);
      expect(sleeps).to.have.length(3);
      // Exponential with jitter: attempt n waits within [base*2^(n-1)/2, base*2^(n-1)] (base 1 s).
      // The three windows [500,1000], [1000,2000], [2000,4000] share no value: a constant back-off fails.
      expect(sleeps[0]!).to.be.within(500, 1000);
      expect(sleeps[1]!).to.be.within(1000, 2000);
      expect(sleeps[2]!).to.be.within(2000, 4000);
      expect(sleeps[2]!).to.be.greaterThan(sleeps[0]!);
    });

    it("gives up after the policy's attempts and reports the error", async () => {
      target
        .on(UpdateAliasCommand)
        .rejects(awsError("ResourceConflictException", "An update is in progress", 409));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/UpdateAlias failed: ResourceConflictException/);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(6);
    });

    it("does not retry errors outside the policy (AccessDenied)", async () => {
      target.on(UpdateAliasCommand).rejects(awsError("AccessDeniedException", "not authorized", 403));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(1);
      expect(sleeps).to.deep.equal([]);
    });

    it("fails when UpdateAlias answers with another routing than the one it was given", async () => {
      target.on(UpdateAliasCommand).resolves(liveAnswer("3"));
      const result = await applyFunction(repointEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/LIVE reads back as v3/);
      expect(target.commandCalls(GetAliasCommand)).to.have.length(0);
    });

    it("fails when UpdateAlias answers with other weights than the ones it was given", async () => {
      target.on(UpdateAliasCommand).resolves(liveAnswer("2", { "4": 0.1 }));
      const result = await applyFunction(repointEntry({ weights: { "4": 0.1 } }), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/LIVE reads back as v2 \{"4":0.1\}/);
    });
  });

  describe("promote", () => {
    beforeEach(() => {
      target
        .on(UpdateFunctionCodeCommand)
        .resolves(config({ LastUpdateStatus: "InProgress", RevisionId: "latest-rev-2" }));
      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: undefined })
        .resolvesOnce({
          Configuration: config({ LastUpdateStatus: "InProgress", RevisionId: "latest-rev-2" }),
        })
        .resolves({ Configuration: config({ RevisionId: "latest-rev-3" }) });
      target.on(PublishVersionCommand).resolves(config({ Version: "12", RevisionId: "v12-rev" }));
      target.on(CreateAliasCommand, { Name: "1-2-0" }).resolves({ Name: "1-2-0", FunctionVersion: "12" });
      target.on(UpdateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("12"));
    });

    it("runs the steps in order, each guarded, and records what it published", async () => {
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status, result.error).to.equal("applied");
      expect(result.functionVersion).to.equal("12");
      expect(result.published).to.deep.equal({ "1.2.0": "12" });
      expect(commandsOf(source)).to.deep.equal(["GetFunctionCommand"]);
      expect(source.commandCalls(GetFunctionCommand)[0]?.args[0].input).to.deep.equal({
        FunctionName: NAME,
        Qualifier: "1-2-0",
      });
      expect(downloads).to.deep.equal(["https://code.example/pkg"]);
      expect(commandsOf(target)).to.deep.equal([
        "UpdateFunctionCodeCommand",
        "GetFunctionCommand",
        "GetFunctionCommand",
        "PublishVersionCommand",
        "CreateAliasCommand",
        "GetFunctionCommand",
        "UpdateAliasCommand",
      ]);
      expect(result.steps.map((s) => s.kind)).to.deep.equal(["stage", "route"]);
      const code = target.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input;
      expect(code.RevisionId).to.equal("latest-rev-1");
      expect(code.ZipFile).to.deep.equal(BYTES);
      expect(code.Architectures).to.deep.equal(["x86_64"]);
      const publish = target.commandCalls(PublishVersionCommand)[0]!.args[0].input;
      expect(publish.CodeSha256).to.equal(SRC_SHA);
      expect(publish.RevisionId).to.equal("latest-rev-3");
      expect(publish.Description).to.contain("1.2.0").and.contain("111111111111").and.contain(SRC_SHA);
      expect(target.commandCalls(CreateAliasCommand)[0]!.args[0].input).to.deep.include({
        Name: "1-2-0",
        FunctionVersion: "12",
      });
      expect(target.commandCalls(UpdateAliasCommand)[0]!.args[0].input).to.deep.include({
        Name: "LIVE",
        FunctionVersion: "12",
        RevisionId: "live-rev-1",
      });
    });

    it("never deploys bytes whose hash differs from the source version's CodeSha256", async () => {
      const result = await applyFunction(
        promoteEntry(),
        deps({ download: async () => ({ ok: false, message: "downloaded package hash X does not match" }) }),
      );
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/does not match/);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(0);
      expect(target.commandCalls(PublishVersionCommand)).to.have.length(0);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });

    it("fails fast when the code update ends in Failed, before publishing", async () => {
      target.on(GetFunctionCommand, { FunctionName: NAME, Qualifier: undefined }).resolves({
        Configuration: config({
          LastUpdateStatus: "Failed",
          LastUpdateStatusReason: "InvalidZipFileException: bad zip",
        }),
      });
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/update of team-a-orders failed: InvalidZipFileException/);
      expect(target.commandCalls(GetFunctionCommand)).to.have.length(1);
      expect(target.commandCalls(PublishVersionCommand)).to.have.length(0);
    });

    it("stops waiting at once on a non-retryable error", async () => {
      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: undefined })
        .rejects(awsError("AccessDeniedException", "denied", 403));
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/AccessDenied/);
      expect(target.commandCalls(GetFunctionCommand)).to.have.length(1);
    });

    it("does not upload again when $LATEST already has the source code (crash recovery)", async () => {
      const result = await applyFunction(promoteEntry(SRC_SHA), deps());
      expect(result.status, result.error).to.equal("applied");
      expect(downloads).to.deep.equal([]);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(0);
      expect(target.commandCalls(PublishVersionCommand)[0]!.args[0].input.RevisionId).to.equal(
        "latest-rev-1",
      );
    });

    it("updates runtime and handler BEFORE the code (guarded, then waits), then the code, then publishes", async () => {
      source.on(GetFunctionCommand).resolves({
        Configuration: config({ Version: "9", Runtime: "nodejs24.x", Handler: "main.handler" }),
        Code: { Location: "https://code.example/pkg" },
      });
      target.on(UpdateFunctionConfigurationCommand).resolves(
        config({ CodeSha256: "old-sha", RevisionId: "cfg-rev-1", LastUpdateStatus: "InProgress" }),
      );
      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: undefined })
        .resolvesOnce({ Configuration: config({ CodeSha256: "old-sha", RevisionId: "cfg-rev-1", LastUpdateStatus: "InProgress" }) })
        .resolvesOnce({
          Configuration: config({ CodeSha256: "old-sha", RevisionId: "cfg-rev-2", Runtime: "nodejs24.x", Handler: "main.handler" }),
        })
        .resolves({ Configuration: config({ RevisionId: "latest-rev-3", Runtime: "nodejs24.x", Handler: "main.handler" }) });
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status, result.error).to.equal("applied");
      expect(commandsOf(target).slice(0, 6)).to.deep.equal([
        "UpdateFunctionConfigurationCommand",
        "GetFunctionCommand",
        "GetFunctionCommand",
        "UpdateFunctionCodeCommand",
        "GetFunctionCommand",
        "PublishVersionCommand",
      ]);
      const update = target.commandCalls(UpdateFunctionConfigurationCommand)[0]!.args[0].input;
      expect(update).to.deep.equal({
        FunctionName: NAME,
        Runtime: "nodejs24.x",
        Handler: "main.handler",
        RevisionId: "latest-rev-1",
      });
      expect(update).to.not.have.any.keys("Environment", "Role", "MemorySize", "Timeout", "VpcConfig", "Layers");
      // The code update is guarded by the RevisionId the configuration update left.
      expect(target.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input.RevisionId).to.equal("cfg-rev-2");
      expect(target.commandCalls(PublishVersionCommand)[0]!.args[0].input.RevisionId).to.equal("latest-rev-3");
    });

    it("waits until a published version is Active before LIVE points at it (an existing version too)", async () => {
      target.on(PublishVersionCommand).resolves(config({ Version: "12", RevisionId: "v12-rev", State: "Pending" }));
      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: "12" })
        .resolvesOnce({ Configuration: config({ Version: "12", State: "Pending" }) })
        .resolves({ Configuration: config({ Version: "12", State: "Active" }) });
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status, result.error).to.equal("applied");
      const versionPolls = target
        .commandCalls(GetFunctionCommand)
        .filter((c) => c.args[0].input.Qualifier === "12");
      expect(versionPolls).to.have.length(2);
      const order = commandsOf(target);
      expect(order.indexOf("UpdateAliasCommand")).to.be.above(order.lastIndexOf("PublishVersionCommand"));
    });

    it("does not point LIVE at a published version that is Failed", async () => {
      target
        .on(PublishVersionCommand)
        .resolves(config({ Version: "12", State: "Failed", LastUpdateStatusReason: "InsufficientRolePermissions" }));
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/version 12 is Failed: InsufficientRolePermissions; LIVE is not moved/);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
      expect(target.commandCalls(CreateAliasCommand)).to.have.length(0);
    });

    it("fetches a new code link once when the download answers 403 (the 10-minute link expired)", async () => {
      let issued = 0;
      source.on(GetFunctionCommand).callsFake(() => ({
        Configuration: config({ Version: "9" }),
        Code: { Location: `https://code.example/pkg-${++issued}` },
      }));
      const result = await applyFunction(
        promoteEntry(),
        deps({
          download: async (url) => {
            downloads.push(url);
            return url.endsWith("-1")
              ? { ok: false, message: "code download failed: HTTP 403", httpStatus: 403 }
              : { ok: true, bytes: BYTES };
          },
        }),
      );
      expect(result.status, result.error).to.equal("applied");
      expect(downloads).to.deep.equal(["https://code.example/pkg-1", "https://code.example/pkg-2"]);
      expect(source.commandCalls(GetFunctionCommand)).to.have.length(2);
    });

    it("stages a package whose base64 request would exceed Lambda's limit even under 50 MiB of bytes", async () => {
      const size = 50 * 1024 * 1024 - 100;
      source.on(GetFunctionCommand).resolves({
        Configuration: config({ Version: "9", CodeSize: size }),
        Code: { Location: "https://code.example/pkg" },
      });
      const staged: number[] = [];
      const result = await applyFunction(
        promoteEntry(),
        deps({
          download: async () => ({ ok: true, bytes: new Uint8Array(size) }),
          stager: {
            stage: async (_name, _sha, bytes) => {
              staged.push(bytes.byteLength);
              return { bucket: "staging", key: "lambda-gitops/x.zip" };
            },
          },
        }),
      );
      expect(result.status, result.error).to.equal("applied");
      expect(staged).to.deep.equal([size]);
      const code = target.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input;
      expect(code.ZipFile).to.equal(undefined);
      expect([code.S3Bucket, code.S3Key]).to.deep.equal(["staging", "lambda-gitops/x.zip"]);
    });

    it("hands over to the next round before a download that could not finish in time (no write)", async () => {
      const result = await applyFunction(promoteEntry(), deps({ timeLeftMs: () => 30_000 }));
      expect(result.status).to.equal("skipped");
      expect(result.error).to.match(/handed over to the next round before downloading the code: 30 s left, 120 s needed/);
      expect(downloads).to.deep.equal([]);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(0);
    });

    it("hands over before waiting when time ran short after the code update; publishes nothing", async () => {
      const left = [300_000, 30_000];
      const result = await applyFunction(promoteEntry(), deps({ timeLeftMs: () => left.shift() ?? 30_000 }));
      expect(result.status).to.equal("skipped");
      expect(result.error).to.match(/before waiting for the code update/);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(1);
      expect(target.commandCalls(PublishVersionCommand)).to.have.length(0);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });

    it("a wait that would outlive the deadline stops at the time left and hands over (issue 20)", async () => {
      // The code is uploaded with 70 s left; $LATEST never settles: the wait's own maximum (300 s)
      // is longer than the time left, so the wait stops at 70 s.
      target.on(GetFunctionCommand).resolves({ Configuration: config({ LastUpdateStatus: "InProgress" }) });
      let clock = 0;
      const wait = { minDelay: 1, maxDelay: 5, maxWaitTime: 300, now: () => clock, sleep: async (ms: number) => void (clock += ms) };
      const result = await applyFunction(promoteEntry(), deps({ wait, timeLeftMs: () => (downloads.length === 0 ? 600_000 : 70_000 - clock) }));
      expect(result.status).to.equal("skipped");
      expect(result.error).to.match(/^handed over to the next round: team-a-orders was still updating when the time left before the deadline ran out \(70 s\)/);
      expect(clock).to.equal(70_000);
      expect(target.commandCalls(PublishVersionCommand)).to.have.length(0);
      expect(target.commandCalls(UpdateAliasCommand)).to.have.length(0);
    });

    it("re-plans when the source version alias moved since planning", async () => {
      source.on(GetFunctionCommand).resolves({
        Configuration: config({ Version: "10", CodeSha256: "b3RoZXI=" }),
        Code: { Location: "u" },
      });
      replanWith = rollforwardEntry;
      const result = await applyFunction(promoteEntry(), deps());
      expect(replans).to.equal(1);
      expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(0);
      // Recovery: the fresh plan ran, guarded by the fresh RevisionId.
      expect(result.status, result.error).to.equal("applied");
      expect(result.entry.action.kind).to.equal("rollforward");
      expect(result.functionVersion).to.equal("12");
      expect(result.published).to.deep.equal({});
      expect(target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).to.deep.equal([
        {
          FunctionName: NAME,
          Name: "LIVE",
          FunctionVersion: "12",
          RoutingConfig: { AdditionalVersionWeights: {} },
          RevisionId: "live-rev-2",
          Description: encodeMarker({ version: "1.2.0", functionVersion: "12", weights: {}, fromFunctionVersion: "3" }),
        },
      ]);
    });

    it("treats a CodeSha256 precondition failure on PublishVersion as a concurrent change", async () => {
      target
        .on(PublishVersionCommand)
        .rejects(
          awsError(
            "InvalidParameterValueException",
            "CodeSHA256 (x) is different from current CodeSHA256 in $LATEST (y). Please try again with the CodeSHA256 in $LATEST.",
          ),
        );
      replanWith = rollforwardEntry;
      const result = await applyFunction(promoteEntry(), deps());
      expect(replans).to.equal(1);
      expect(result.status, result.error).to.equal("applied");
      expect(result.published).to.deep.equal({});
      expect(result.steps.map((s) => s.kind)).to.deep.equal(["route"]);
      expect(target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId)).to.deep.equal([
        "live-rev-2",
      ]);
    });

    it("keeps the version it published when LIVE changed concurrently and the re-plan only moves LIVE", async () => {
      target
        .on(UpdateAliasCommand, { Name: "LIVE" })
        .rejectsOnce(awsError("PreconditionFailedException", "The Revision Id provided does not match", 412))
        .resolves(liveAnswer("12"));
      replanWith = rollforwardEntry;
      const result = await applyFunction(promoteEntry(), deps());
      expect(replans).to.equal(1);
      expect(result.status, result.error).to.equal("applied");
      expect(result.replanned).to.equal(true);
      expect(result.entry.action.kind).to.equal("rollforward");
      expect(result.functionVersion).to.equal("12");
      // The version published before the re-plan is still reported, with every step that ran.
      expect(result.published).to.deep.equal({ "1.2.0": "12" });
      expect(result.steps.map((s) => [s.kind, s.kind === "stage" ? s.functionVersion : s.routing.functionVersion])).to.deep.equal([
        ["stage", "12"],
        ["route", "12"],
      ]);
      expect(target.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input.RevisionId)).to.deep.equal([
        "live-rev-1",
        "live-rev-2",
      ]);
      expect(target.commandCalls(PublishVersionCommand)).to.have.length(1);
    });

    it("refuses a published version whose code hash is not the source's", async () => {
      target.on(PublishVersionCommand).resolves(config({ Version: "12", CodeSha256: "d3Jvbmc=" }));
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/published version 12 has CodeSha256 d3Jvbmc=/);
      expect(target.commandCalls(CreateAliasCommand)).to.have.length(0);
    });

    it("accepts a version alias that appeared meanwhile only when it serves the same code", async () => {
      target
        .on(CreateAliasCommand, { Name: "1-2-0" })
        .rejects(awsError("ResourceConflictException", "Alias already exists", 409));
      target
        .on(GetAliasCommand, { Name: "1-2-0" })
        .resolves({ Name: "1-2-0", FunctionVersion: "11", RevisionId: "r" });
      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: "11" })
        .resolves({ Configuration: config({ Version: "11" }) });
      target.on(UpdateAliasCommand, { Name: "LIVE" }).resolves(liveAnswer("11"));
      const same = await applyFunction(promoteEntry(), deps());
      expect(same.status, same.error).to.equal("applied");
      expect(same.functionVersion).to.equal("11");

      target
        .on(GetFunctionCommand, { FunctionName: NAME, Qualifier: "11" })
        .resolves({ Configuration: config({ Version: "11", CodeSha256: "ZGlmZg==" }) });
      const different = await applyFunction(promoteEntry(), deps());
      expect(different.status).to.equal("failed");
      expect(different.error).to.match(/already exists here and points at version 11 with different code/);
    });

    describe("encrypted code (customer-managed KMS keys)", () => {
      const TARGET_KEY = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
      const SOURCE_KEY = "arn:aws:kms:us-east-1:111111111111:key/0000abcd-12ab-34cd-56ef-1234567890ab";

      it("keeps the target's own code key: UpdateFunctionCode carries the SourceKMSKeyArn $LATEST has", async () => {
        const entry = promoteEntry("old-sha", { sourceKmsKeyArn: TARGET_KEY });
        const stage = stepsOf(entry).find((s) => s.kind === "stage");
        expect(stage?.kind === "stage" && stage.latest.sourceKmsKeyArn, "the plan shows the key").to.equal(TARGET_KEY);
        const result = await applyFunction(entry, deps());
        expect(result.status, result.error).to.equal("applied");
        const code = target.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input;
        expect(code.SourceKMSKeyArn).to.equal(TARGET_KEY);
      });

      it("sends no SourceKMSKeyArn when the target uses Lambda's own key", async () => {
        const result = await applyFunction(promoteEntry(), deps());
        expect(result.status, result.error).to.equal("applied");
        const code = target.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input;
        expect(code).to.not.have.property("SourceKMSKeyArn");
      });

      it("observes the target's key from GetFunction's Code.SourceKMSKeyArn", async () => {
        target.on(GetFunctionCommand, { FunctionName: NAME, Qualifier: undefined }).resolves({
          Configuration: config(),
          Code: { Location: "https://code.example/x", SourceKMSKeyArn: TARGET_KEY },
        });
        const state = await createLambdaAdapter(targetClient).getFunction(NAME);
        expect(state?.sourceKmsKeyArn).to.equal(TARGET_KEY);
      });

      it("names the key and the reconciler's role when Lambda refuses the target's key", async () => {
        target
          .on(UpdateFunctionCodeCommand)
          .rejects(awsError("KMSAccessDeniedException", "Lambda was unable to decrypt with the KMS key", 502));
        const result = await applyFunction(promoteEntry("old-sha", { sourceKmsKeyArn: TARGET_KEY }), deps());
        expect(result.status).to.equal("failed");
        expect(result.error).to.equal(
          `KMS refused a key: the reconciler's execution role needs kms:GenerateDataKey and kms:Decrypt on ${TARGET_KEY} (the key policy of the function's code key must allow the role and Lambda; a staged package also needs StagingBucketKmsKeyArn in infra/reconciler.yaml); UpdateFunctionCode failed: KMSAccessDeniedException: Lambda was unable to decrypt with the KMS key`,
        );
        expect(target.commandCalls(PublishVersionCommand)).to.have.length(0);
      });

      it("names the source key and the source role when the source account's key is refused", async () => {
        source
          .on(GetFunctionCommand)
          .rejects(
            awsError(
              "AccessDeniedException",
              `User: arn:aws:sts::111111111111:assumed-role/lambda-gitops-source/run is not authorized to perform: kms:Decrypt on resource: ${SOURCE_KEY}`,
              403,
            ),
          );
        const result = await applyFunction(promoteEntry(), deps());
        expect(result.status).to.equal("failed");
        expect(result.error).to.match(
          new RegExp(
            `^KMS refused a key: the source role \\(SourceRoleArn, account 111111111111\\) needs kms:Decrypt on ${SOURCE_KEY.replace(/[/]/g, "\\/")} \\(infra/source-role\\.yaml parameter SourceCodeKmsKeyArns`,
          ),
        );
        expect(commandsOf(target)).to.deep.equal([]);
      });

      it("names the staging bucket's key parameter when S3 refuses it", async () => {
        const size = 50 * 1024 * 1024 - 100;
        source.on(GetFunctionCommand).resolves({
          Configuration: config({ Version: "9", CodeSize: size }),
          Code: { Location: "https://code.example/pkg" },
        });
        const result = await applyFunction(
          promoteEntry(),
          deps({
            download: async () => ({ ok: true, bytes: new Uint8Array(size) }),
            stager: {
              stage: async () => {
                throw awsError("AccessDenied", "User is not authorized to perform: kms:GenerateDataKey on this resource", 403);
              },
            },
          }),
        );
        expect(result.status).to.equal("failed");
        expect(result.error).to.match(
          /^KMS refused a key: the reconciler's execution role needs kms:GenerateDataKey on the customer-managed KMS key \(the error does not name it\) \(infra\/reconciler\.yaml parameter StagingBucketKmsKeyArn/,
        );
        expect(target.commandCalls(UpdateFunctionCodeCommand)).to.have.length(0);
      });

      it("leaves other access errors as they are", async () => {
        target.on(UpdateFunctionCodeCommand).rejects(awsError("AccessDeniedException", "not authorized to perform: lambda:UpdateFunctionCode", 403));
        const result = await applyFunction(promoteEntry(), deps());
        expect(result.status).to.equal("failed");
        expect(result.error).to.not.match(/KMS/);
      });
    });

    it("blocks packages over the 50 MB direct upload limit when no staging bucket is configured", async () => {
      source.on(GetFunctionCommand).resolves({
        Configuration: config({ Version: "9", CodeSize: 60 * 1024 * 1024 }),
        Code: { Location: "u" },
      });
      const result = await applyFunction(promoteEntry(), deps());
      expect(result.status).to.equal("failed");
      expect(result.error).to.match(/over the direct upload limit \(\d+ bytes: UpdateFunctionCode's request carries it base64-encoded\); configure a stagingBucket/);
      expect(downloads).to.deep.equal([]);
    });
  });

  describe("the run", () => {
    it("one function's failure never cancels another's work", async () => {
      target
        .on(UpdateAliasCommand, { FunctionName: "team-a-bad" })
        .rejects(awsError("AccessDeniedException", "denied", 403));
      target.on(UpdateAliasCommand, { FunctionName: NAME }).resolves(liveAnswer("2"));
      const bad = { ...repointEntry(), name: "team-a-bad" };
      const report = await applyPlan({ liveAlias: "LIVE", entries: [bad, repointEntry()] }, deps());
      expect(report.results.map((r) => [r.name, r.status])).to.deep.equal([
        ["team-a-bad", "failed"],
        [NAME, "applied"],
      ]);
    });

    it("blocked entries report status blocked with their reason, fail the run, and make no call", async () => {
      const blocked: PlanEntry = {
        ...repointEntry(),
        action: { kind: "blocked", code: "version-missing", reason: "version 9.9.9 exists nowhere" },
      };
      const result = await applyFunction(blocked, deps());
      expect(result).to.deep.include({ status: "blocked", error: "version 9.9.9 exists nowhere" });
      expect(fails(result)).to.equal(true);
      expect(target.calls()).to.have.length(0);
    });

    it("noop entries make no call at all", async () => {
      const noop = repointEntry({ functionVersion: "2" });
      expect(noop.action.kind).to.equal("noop");
      const result = await applyFunction(noop, deps());
      expect(result.status).to.equal("unchanged");
      expect(target.calls()).to.have.length(0);
      expect(source.calls()).to.have.length(0);
    });

    it("does not start new changes once the deadline is near", async () => {
      const result = await applyFunction(repointEntry(), deps({ canStart: () => false }));
      expect(result.status).to.equal("skipped");
      expect(target.calls()).to.have.length(0);
    });

    it("never runs more functions at once than the concurrency", async () => {
      let running = 0;
      let peak = 0;
      const slow = createLambdaAdapter(targetClient);
      const adapter = {
        ...slow,
        updateAlias: async (...args: Parameters<typeof slow.updateAlias>) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running -= 1;
          return slow.updateAlias(...args);
        },
      };
      target.on(UpdateAliasCommand).resolves(liveAnswer("2"));
      const entries = Array.from({ length: 12 }, (_, i) => ({ ...repointEntry(), name: `team-a-${i}` }));
      await applyPlan({ liveAlias: "LIVE", entries }, deps({ target: adapter, concurrency: 3 }));
      expect(peak).to.equal(3);
    });
  });
});
