import { expect } from "chai";
import {
  rolloutFailed,
  type RolloutEvent,
  type RolloutOutcome,
  type RolloutPosition,
} from "../../../reconciler/plan/rollout.ts";
import {
  clockTime,
  describePosition,
  describeEvent,
  describeOutcome,
  describeRollout,
} from "../../../reconciler/report/rollout.ts";

const NOW = Date.UTC(2026, 10, 30, 16, 0, 0);
const AT_1605 = NOW + 300_000;

describe("rollout words", () => {
  it("clock times are UTC minutes, with the date when it is another day", () => {
    expect(clockTime(AT_1605, NOW)).to.equal("16:05Z");
    expect(clockTime(NOW + 9 * 3600_000, NOW)).to.equal("2026-12-01 01:00Z");
  });

  it("times are to the second when the rollout's interval or bake is under a minute", () => {
    const short = { steps: [50], intervalSeconds: 10, bakeSeconds: 300, alarms: [] };
    const at = NOW + 10_000;
    expect(describePosition({ kind: "wait", phase: "interval", until: at, step: 1, steps: 1 }, NOW, short)).to.equal(
      "rollout step 1 of 2, next shift at 16:00:10Z",
    );
    // The bake is five minutes: minutes suffice.
    expect(describePosition({ kind: "wait", phase: "bake", until: AT_1605, step: 2, steps: 1 }, NOW, short)).to.equal(
      "rollout at 100%, bake until 16:05Z",
    );
    const inProgress: RolloutOutcome = { kind: "in-progress", step: 1, steps: 1, phase: "interval", nextAt: at, shifts: 1 };
    expect(describeOutcome(inProgress, NOW, short)).to.equal("rollout step 1 of 2, next shift at 16:00:10Z");
    expect(describeOutcome(inProgress, NOW, { ...short, intervalSeconds: 300 })).to.equal("rollout step 1 of 2, next shift at 16:00Z");
  });

  it("describes a rollout spec", () => {
    expect(
      describeRollout({ steps: [10, 50], intervalSeconds: 300, bakeSeconds: 600, alarms: ["a", "b"], smoke: { payload: {} } }),
    ).to.equal("10% -> 50% -> 100%, every 5m, bake 10m, alarms a, b, smoke test first");
    expect(describeRollout({ steps: [], intervalSeconds: 0, bakeSeconds: 0, alarms: [] })).to.equal("100%, no alarms");
  });

  const positions: [RolloutPosition, string][] = [
    [{ kind: "wait", phase: "interval", until: AT_1605, step: 2, steps: 2 }, "rollout step 2 of 3, next shift at 16:05Z"],
    [{ kind: "wait", phase: "bake", until: AT_1605, step: 3, steps: 2 }, "rollout at 100%, bake until 16:05Z"],
    [{ kind: "shift", step: 1, steps: 2, first: true }, "rollout starts: step 1 of 3"],
    [{ kind: "shift", step: 3, steps: 2, first: false }, "rollout: shift to 100% now"],
    [{ kind: "rollback", alarm: "a", state: "ALARM", step: 2, steps: 2 }, 'rollout: roll back now (alarm "a" in ALARM at step 2 of 3)'],
  ];
  for (const [position, text] of positions) {
    it(`plan: ${text}`, () => expect(describePosition(position, NOW)).to.equal(text));
  }

  const events: [RolloutEvent, string][] = [
    [{ kind: "shift", step: 1, steps: 2, weight: 10, nextAt: AT_1605 }, "shifted to 10% (step 1 of 3); next move at 16:05:00Z"],
    [{ kind: "shift", step: 3, steps: 2, weight: 100, nextAt: undefined }, "shifted to 100%"],
    [{ kind: "watch", phase: "bake", step: 3, steps: 2, until: AT_1605, alarms: { a: "OK", b: "INSUFFICIENT_DATA" } }, "baking, alarms a=OK b=INSUFFICIENT_DATA; until 16:05:00Z"],
    [{ kind: "rollback", alarm: "a", state: "ALARM", step: 2, steps: 2 }, 'alarm "a" in ALARM at step 2 of 3: rolled back'],
    [{ kind: "smoke", ok: false, statusCode: 200, functionError: "Unhandled" }, "smoke invocation failed (status 200, Unhandled)"],
  ];
  for (const [event, text] of events) {
    it(`event: ${text}`, () => expect(describeEvent(event)).to.equal(text));
  }

  const outcomes: [RolloutOutcome, string, boolean][] = [
    [{ kind: "done", steps: 2, shifts: 3 }, "rolled out in 3 steps", false],
    [{ kind: "rolled-back", alarm: "team-a-5xx", state: "ALARM", step: 2, steps: 2 }, 'rolled back by alarm "team-a-5xx" (in ALARM) at step 2 of 3', true],
    [{ kind: "in-progress", step: 1, steps: 2, phase: "interval", nextAt: AT_1605, shifts: 1 }, "rollout step 1 of 3, next shift at 16:05Z", false],
    [{ kind: "smoke-failed", statusCode: 200, functionError: "Unhandled", excerpt: "{}" }, "smoke invocation failed (status 200, Unhandled): no traffic was moved; answer: {}", true],
    [{ kind: "blocked", code: "alarm-missing", alarm: "x", reason: 'alarm "x" does not exist' }, 'alarm "x" does not exist', true],
  ];
  for (const [outcome, text, failed] of outcomes) {
    it(`outcome: ${text}`, () => {
      expect(describeOutcome(outcome, NOW)).to.equal(text);
      expect(rolloutFailed(outcome)).to.equal(failed);
    });
  }
});
