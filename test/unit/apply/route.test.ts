/**
 * apply/route.ts against a recording fake of the Lambda port (no SDK): the guarded move of LIVE,
 * the marker it writes, creation, the read-back check and what a conflict becomes.
 */
import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import { ConcurrentChange, StepFailure } from "../../../reconciler/apply/execution.ts";
import { route } from "../../../reconciler/apply/route.ts";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { decodeMarker } from "../../../reconciler/observe/marker.ts";
import type { AliasState } from "../../../reconciler/observe/state.ts";
import { routingOfAlias } from "../../../reconciler/plan/routing.ts";
import type { RouteStep } from "../../../reconciler/plan/steps.ts";

const NAME = "team-a-orders";

/** Records every alias write; answers with the alias as written (or as `answer` rewrites it). */
class FakeAliases {
  calls: string[] = [];
  answer: (written: AliasState) => AliasState = (written) => written;
  createConflict = false;

  port(): LambdaWriter {
    const write = (kind: string, alias: string, w: { functionVersion: string; weights: Record<string, number>; description?: string; revisionId?: string }) => {
      this.calls.push(`${kind} ${alias} ${w.functionVersion} ${JSON.stringify(w.weights)} ${w.revisionId ?? "-"}`);
      return this.answer({ name: alias, functionVersion: w.functionVersion, weights: { ...w.weights }, revisionId: "after", description: w.description ?? "" });
    };
    return {
      updateAlias: async (_n: string, alias: string, w: Parameters<LambdaWriter["updateAlias"]>[2]) => write("UpdateAlias", alias, w),
      createAlias: async (_n: string, alias: string, w: Parameters<LambdaWriter["createAlias"]>[2]) => {
        if (this.createConflict) throw Object.assign(new Error("exists"), { name: "ResourceConflictException" });
        return write("CreateAlias", alias, w);
      },
    } as unknown as LambdaWriter;
  }
}

const at = (functionVersion: string, weights: Record<string, number> = {}, version: string | null = null) =>
  routingOfAlias({ functionVersion, weights }, (fv) => (fv === functionVersion ? version : null));

function step(overrides: Partial<RouteStep> = {}): RouteStep {
  return {
    kind: "route",
    alias: "LIVE",
    from: at("3", {}, "1.1.1"),
    to: at("4", {}, "1.2.0"),
    revisionId: "before",
    declared: { version: "1.2.0" },
    description: null,
    ...overrides,
  };
}

describe("route step (port fake)", () => {
  it("moves LIVE with UpdateAlias guarded by the observed RevisionId, writing the marker with the previous primary", async () => {
    const fake = new FakeAliases();
    const outcome = await route(NAME, step(), new Map(), { target: fake.port() } as never, silentLogger);
    expect(fake.calls).to.deep.equal(["UpdateAlias LIVE 4 {} before"]);
    expect(outcome.changed).to.equal(true);
    expect(outcome.routing).to.deep.equal({ functionVersion: "4", weights: {} });
    expect(decodeMarker(outcome.description)).to.deep.equal({ version: "1.2.0", functionVersion: "4", weights: {}, fromFunctionVersion: "3" });
  });

  it("writes nothing when LIVE already routes as the step says", async () => {
    const fake = new FakeAliases();
    const outcome = await route(NAME, step({ to: at("3", {}, "1.1.1") }), new Map(), { target: fake.port() } as never, silentLogger);
    expect(fake.calls).to.deep.equal([]);
    expect(outcome.changed).to.equal(false);
  });

  it("creates LIVE when the plan saw none; someone creating it meanwhile is a concurrent change", async () => {
    const fake = new FakeAliases();
    const created = await route(NAME, step({ from: null, revisionId: null }), new Map(), { target: fake.port() } as never, silentLogger);
    expect(fake.calls).to.deep.equal(["CreateAlias LIVE 4 {} -"]);
    expect(decodeMarker(created.description)).to.deep.equal({ version: "1.2.0", functionVersion: "4", weights: {} });
    fake.createConflict = true;
    const error = await route(NAME, step({ from: null, revisionId: null }), new Map(), { target: fake.port() } as never, silentLogger).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConcurrentChange);
  });

  it("resolves a version a stage step published, and fails when none did", async () => {
    const fake = new FakeAliases();
    const staged = step({ to: { primary: { version: "1.2.0", stage: 0 }, additional: [] } });
    const outcome = await route(NAME, staged, new Map([[0, "9"]]), { target: fake.port() } as never, silentLogger);
    expect(outcome.routing).to.deep.equal({ functionVersion: "9", weights: {} });
    const error = await route(NAME, staged, new Map(), { target: fake.port() } as never, silentLogger).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StepFailure);
  });

  it("an answer that reads back differently fails the function", async () => {
    const fake = new FakeAliases();
    fake.answer = (written) => ({ ...written, functionVersion: "7" });
    const error = await route(NAME, step(), new Map(), { target: fake.port() } as never, silentLogger).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StepFailure);
    expect((error as Error).message).to.include("reads back as v7");
  });
});
