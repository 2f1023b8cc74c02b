/**
 * Progress lines (entry/terminal.ts): each function as it settles, and every 30 s a line for a
 * function still waiting, naming what it waits for and for how long, so that a log without a
 * terminal never goes quiet. Driven by sinon's fake clock (no real waiting).
 */
import { expect } from "chai";
import sinon from "sinon";
import { silentLogger } from "../../../reconciler/core/log.ts";
import { createProgress, HEARTBEAT_MS, paint } from "../../../reconciler/entry/terminal.ts";

describe("progress without a terminal", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 11, 4, 12, 0, 0) });
  });
  afterEach(() => clock.restore());

  it("prints each function as it settles and, every 30 s, what a waiting function waits for", () => {
    const lines: string[] = [];
    const progress = createProgress(2, (l) => lines.push(l), paint(false), { steps: false });
    const logger = progress.tap(silentLogger);
    const orders = logger.child({ function: "team-a-orders", action: "promote" });
    const billing = logger.child({ function: "team-a-billing", action: "rollforward" });
    orders.info("code updated", {});
    expect(lines).to.deep.equal([]); // no step lines without a terminal
    clock.tick(15_000);
    progress.finished("team-a-billing", "applied", "rollforward: LIVE 1.0.0 (v1) -> 1.1.0 (v2)");
    void billing;
    clock.tick(HEARTBEAT_MS - 15_000);
    expect(lines).to.deep.equal([
      "[1/2] team-a-billing  applied  rollforward: LIVE 1.0.0 (v1) -> 1.1.0 (v2)",
      "team-a-orders: waiting for the code update, 30 s",
    ]);
    clock.tick(15_000);
    orders.info("version published", {});
    clock.tick(15_000);
    // A new step restarted the count: 15 s in, no line yet.
    expect(lines).to.have.length(2);
    clock.tick(30_000);
    expect(lines.at(-1)).to.equal("team-a-orders: waiting for the version, then moving LIVE, 45 s");
    progress.finished("team-a-orders", "applied", "promote");
    clock.tick(60_000);
    expect(lines.at(-1)).to.equal("[2/2] team-a-orders  applied  promote");
    progress.stop();
  });
});
