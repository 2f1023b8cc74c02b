/**
 * apply/stage.ts against a recording fake of the Lambda port (no SDK): one version copied from the
 * source account, each write guarded, the crash-recovery shortcuts, and what a moved source is.
 */
import { expect } from "chai";
import type { LambdaReader, LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import { ConcurrentChange, StepFailure, type StepDeps } from "../../../reconciler/apply/execution.ts";
import { stage } from "../../../reconciler/apply/stage.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import type { AliasState, FunctionState } from "../../../reconciler/observe/state.ts";
import type { LatestGuard, StageStep } from "../../../reconciler/plan/steps.ts";
import { fnState } from "../../support/fixtures.ts";

const NAME = "team-a-orders";
const SRC_SHA = "c3JjLXNoYQ==";
const BYTES = new Uint8Array([80, 75, 5, 6]);

/** The target function: $LATEST, its published versions and aliases; every write recorded. */
class FakeTarget {
  calls: string[] = [];
  latest: FunctionState = fnState({ functionVersion: "$LATEST", revisionId: "latest-1", codeSha256: "old-sha" });
  versions = new Map<string, FunctionState>();
  aliases = new Map<string, AliasState>();
  revision = 1;

  port(): LambdaWriter {
    const bump = () => {
      this.revision += 1;
      return `latest-${this.revision}`;
    };
    return {
      getFunction: async (_n: string, qualifier?: string) =>
        structuredClone(qualifier === undefined ? this.latest : this.versions.get(qualifier)),
      getAlias: async (_n: string, alias: string) => structuredClone(this.aliases.get(alias)),
      updateFunctionConfiguration: async (_n: string, u: { runtime?: string; handler?: string; revisionId: string }) => {
        this.calls.push(`UpdateFunctionConfiguration ${u.revisionId}`);
        if (u.revisionId !== this.latest.revisionId) throw Object.assign(new Error("rev"), { name: "PreconditionFailedException" });
        this.latest = { ...this.latest, runtime: u.runtime, handler: u.handler, revisionId: bump() };
        return structuredClone(this.latest);
      },
      updateFunctionCode: async (_n: string, u: { zipFile?: Uint8Array; revisionId: string; architectures: string[] }) => {
        this.calls.push(`UpdateFunctionCode ${u.revisionId} ${u.zipFile?.byteLength ?? "s3"}`);
        if (u.revisionId !== this.latest.revisionId) throw Object.assign(new Error("rev"), { name: "PreconditionFailedException" });
        this.latest = { ...this.latest, codeSha256: SRC_SHA, architectures: [...u.architectures], revisionId: bump() };
        return structuredClone(this.latest);
      },
      publishVersion: async (_n: string, input: { codeSha256: string; revisionId: string }) => {
        this.calls.push(`PublishVersion ${input.codeSha256} ${input.revisionId}`);
        const functionVersion = String(this.versions.size + 1);
        const published = { ...this.latest, functionVersion, state: "Active" };
        this.versions.set(functionVersion, published);
        return structuredClone(published);
      },
      createAlias: async (_n: string, alias: string, w: { functionVersion: string; weights: Record<string, number>; description?: string }) => {
        this.calls.push(`CreateAlias ${alias} ${w.functionVersion}`);
        if (this.aliases.has(alias)) throw Object.assign(new Error("exists"), { name: "ResourceConflictException" });
        const created: AliasState = { name: alias, functionVersion: w.functionVersion, weights: {}, revisionId: "a1", description: w.description ?? "" };
        this.aliases.set(alias, created);
        return structuredClone(created);
      },
    } as unknown as LambdaWriter;
  }
}

function sourceReader(codeSha256 = SRC_SHA): LambdaReader {
  return {
    getFunction: async () => fnState({ functionVersion: "9", codeSha256, codeSize: BYTES.byteLength, codeLocation: "https://source/code" }),
  } as unknown as LambdaReader;
}

const STEP: StageStep = {
  kind: "stage",
  version: "1.2.0",
  alias: "1-2-0",
  source: { account: "111111111111", functionVersion: "9", codeSha256: SRC_SHA, codeSize: BYTES.byteLength, runtime: "nodejs22.x", handler: "index.handler", architectures: ["x86_64"] },
  latest: { revisionId: "latest-1", codeSha256: "old-sha", runtime: "nodejs22.x", handler: "index.handler", architectures: ["x86_64"] },
};

function deps(target: FakeTarget, source = sourceReader()): StepDeps {
  return {
    target: target.port(),
    source: { reader: source, accountId: "111111111111" },
    download: async () => ({ ok: true, bytes: BYTES }),
    sleep: async () => {},
    wait: { minDelay: 0, maxDelay: 0, maxWaitTime: 1, sleep: async () => {} },
  };
}

const guard = (t: FakeTarget): LatestGuard => ({ ...STEP.latest, revisionId: t.latest.revisionId, codeSha256: t.latest.codeSha256, runtime: t.latest.runtime, handler: t.latest.handler });

describe("stage step (port fake)", () => {
  it("copies the code, publishes it guarded by CodeSha256 and RevisionId, and creates the version alias", async () => {
    const target = new FakeTarget();
    const outcome = await stage(NAME, STEP, guard(target), deps(target), silentLogger);
    expect(target.calls).to.deep.equal([
      "UpdateFunctionCode latest-1 4",
      `PublishVersion ${SRC_SHA} latest-2`,
      "CreateAlias 1-2-0 1",
    ]);
    expect(outcome).to.deep.include({ functionVersion: "1", reused: false });
    expect(outcome.latest.revisionId).to.equal("latest-2");
  });

  it("code already on $LATEST (a run killed after the upload): not uploaded again", async () => {
    const target = new FakeTarget();
    target.latest = { ...target.latest, codeSha256: SRC_SHA };
    await stage(NAME, STEP, guard(target), deps(target), silentLogger);
    expect(target.calls).to.deep.equal([`PublishVersion ${SRC_SHA} latest-1`, "CreateAlias 1-2-0 1"]);
  });

  it("a different runtime: the configuration is updated first, guarded, then the code", async () => {
    const target = new FakeTarget();
    target.latest = { ...target.latest, runtime: "nodejs18.x" };
    await stage(NAME, STEP, guard(target), deps(target), silentLogger);
    expect(target.calls.slice(0, 2)).to.deep.equal(["UpdateFunctionConfiguration latest-1", "UpdateFunctionCode latest-2 4"]);
  });

  it("an existing version alias with the same code is used; with other code it fails the function", async () => {
    const same = new FakeTarget();
    same.latest = { ...same.latest, codeSha256: SRC_SHA };
    same.versions.set("7", fnState({ functionVersion: "7", codeSha256: SRC_SHA, state: "Active" }));
    same.aliases.set("1-2-0", { name: "1-2-0", functionVersion: "7", weights: {}, revisionId: "a", description: "" });
    expect(await stage(NAME, STEP, guard(same), deps(same), silentLogger)).to.deep.include({ functionVersion: "7", reused: true });

    const other = new FakeTarget();
    other.latest = { ...other.latest, codeSha256: SRC_SHA };
    other.versions.set("7", fnState({ functionVersion: "7", codeSha256: "other", state: "Active" }));
    other.aliases.set("1-2-0", { name: "1-2-0", functionVersion: "7", weights: {}, revisionId: "a", description: "" });
    const error = await stage(NAME, STEP, guard(other), deps(other), silentLogger).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StepFailure);
    expect((error as Error).message).to.include("semantic versions are immutable");
  });

  it("the source alias now serves other code: a concurrent change, nothing written", async () => {
    const target = new FakeTarget();
    const error = await stage(NAME, STEP, guard(target), deps(target, sourceReader("moved")), silentLogger).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConcurrentChange);
    expect(target.calls).to.deep.equal([]);
  });
});
