/**
 * apply/rollout.ts: the rollout runner's port on the Lambda port (a recording fake, no SDK). LIVE
 * is read as the one `Live` value observe/ builds, every write carries the marker and the RevisionId,
 * and a conflicting write is a value the runner re-reads on, never an exception.
 */
import { expect } from "chai";
import type { LambdaWriter } from "../../../reconciler/aws/lambda.ts";
import { createRolloutPort } from "../../../reconciler/apply/rollout.ts";
import { decodeMarker } from "../../../reconciler/observe/marker.ts";
import type { AliasState } from "../../../reconciler/observe/state.ts";
import { beforeRollout } from "../../support/fixtures.ts";

const NAME = "team-a-orders";

class FakeAliases {
  calls: string[] = [];
  conflict = false;
  aliases: AliasState[] = beforeRollout();

  port(): LambdaWriter {
    return {
      listAliases: async () => structuredClone(this.aliases),
      updateAlias: async (_n: string, name: string, w: { functionVersion: string; weights: Record<string, number>; description?: string; revisionId: string }) => {
        this.calls.push(`UpdateAlias ${name} ${w.functionVersion} ${JSON.stringify(w.weights)} ${w.revisionId}`);
        if (this.conflict) throw Object.assign(new Error("moved"), { name: "PreconditionFailedException" });
        return { name, functionVersion: w.functionVersion, weights: w.weights, revisionId: "r2", description: w.description ?? "" };
      },
      invoke: async (_n: string, qualifier: string) => {
        this.calls.push(`Invoke ${qualifier}`);
        return { ok: true, statusCode: 200, executedVersion: "5" };
      },
    } as unknown as LambdaWriter;
  }
}

describe("rollout port (port fake)", () => {
  it("reads LIVE as one Live value: routing, semantic version, marker, RevisionId", async () => {
    const fake = new FakeAliases();
    const { port, last } = createRolloutPort(fake.port(), undefined, NAME, "LIVE", "1-5-0");
    const live = await port.readLive();
    expect(live).to.deep.include({ routing: { functionVersion: "4", weights: {} }, version: "1.4.0", revisionId: "r1" });
    expect(live?.marker).to.deep.equal({ version: "1.4.0", functionVersion: "4", weights: {} });
    expect(last()).to.deep.equal({ functionVersion: "4", weights: {} });
  });

  it("writes the routing with the marker, guarded; the answer is the new LIVE (and what last() reports)", async () => {
    const fake = new FakeAliases();
    const { port, last } = createRolloutPort(fake.port(), undefined, NAME, "LIVE", "1-5-0");
    await port.readLive();
    const marker = { version: "1.5.0", functionVersion: "4", weights: { "5": 0.1 }, rollout: { fromVersion: "1.4.0", fromFunctionVersion: "4", step: 1, steps: 2, since: 1 } };
    const result = await port.writeLive({ functionVersion: "4", weights: { "5": 0.1 } }, marker, "r1");
    expect(fake.calls).to.deep.equal(['UpdateAlias LIVE 4 {"5":0.1} r1']);
    expect(result.ok && result.live.marker).to.deep.equal(marker);
    expect(result.ok && decodeMarker(result.live.description)).to.deep.equal(marker);
    expect(result.ok && result.live.version).to.equal("1.4.0");
    expect(last()).to.deep.equal({ functionVersion: "4", weights: { "5": 0.1 } });
  });

  it("a write refused because LIVE moved is a conflict value; no alarms reader reads every alarm as missing", async () => {
    const fake = new FakeAliases();
    fake.conflict = true;
    const { port } = createRolloutPort(fake.port(), undefined, NAME, "LIVE", "1-5-0");
    expect(await port.writeLive({ functionVersion: "5", weights: {} }, { version: "1.5.0", functionVersion: "5", weights: {} }, "r1")).to.deep.equal({
      ok: false,
      conflict: true,
    });
    expect(Object.fromEntries(await port.alarmStates(["a-5xx"]))).to.deep.equal({ "a-5xx": "missing" });
  });

  it("the smoke invocation goes to the new version's alias", async () => {
    const fake = new FakeAliases();
    const { port } = createRolloutPort(fake.port(), undefined, NAME, "LIVE", "1-5-0");
    expect(await port.smoke({ ping: true })).to.deep.include({ ok: true });
    expect(fake.calls).to.deep.equal(["Invoke 1-5-0"]);
  });
});
