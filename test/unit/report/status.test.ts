import { expect } from "chai";
import { encodeMarker, decodeMarker, type Marker } from "../../../reconciler/observe/marker.ts";
import type { FunctionSpec } from "../../../reconciler/input/definitions.ts";
import { type Plan, type PlanEntry, planFunction } from "../../../reconciler/plan/plan.ts";
import { alias, observedInTarget } from "../../support/fixtures.ts";
import { describeRollout, functionStatus, renderStatusTable } from "../../../reconciler/report/status.ts";

interface Case {
  case: string;
  live: { functionVersion: string; version: string | null; weights?: Record<string, number> } | null;
  marker?: Marker;
  action: "noop" | "rollforward" | "create" | "blocked";
  expect: { live: string; state: string; changedOutside: boolean; rollout: string };
}

function entryOf(c: Case): PlanEntry {
  const routing = {
    primary: { version: "1.1.0", functionVersion: "5" },
    additional: c.live?.weights ? [{ target: { version: "1.2.0", functionVersion: "6" }, weight: 0.1 }] : [],
  };
  const description = c.marker ? (encodeMarker(c.marker) ?? "") : "";
  return {
    key: { account: "target", region: "eu-west-1", name: "team-a-orders" },
    name: "team-a-orders",
    declared: { version: "1.1.0" },
    live: c.live
      ? {
          routing: { functionVersion: c.live.functionVersion, weights: c.live.weights ?? {} },
          version: c.live.version,
          revisionId: "r",
          description,
          marker: decodeMarker(description),
        }
      : null,
    action:
      c.action === "blocked"
        ? { kind: "blocked", code: "version-missing", reason: "version 1.1.0 exists nowhere" }
        : { kind: c.action, routing, steps: [] },
  } as unknown as PlanEntry;
}

const SINCE = Date.UTC(2026, 10, 30, 12, 0, 0) / 1000;
/** A rollout of two partial steps at 100% (step 3 of 3), written at SINCE. */
const AT_FULL: Marker = {
  version: "1.1.0",
  functionVersion: "5",
  weights: {},
  rollout: { fromVersion: "1.0.0", fromFunctionVersion: "4", step: 3, steps: 2, since: SINCE },
};
const cases: Case[] = [
  {
    case: "in sync, written by lambda-gitops",
    live: { functionVersion: "5", version: "1.1.0" },
    marker: { version: "1.1.0", functionVersion: "5", weights: {} },
    action: "noop",
    expect: { live: "1.1.0 (v5)", state: "in-sync", changedOutside: false, rollout: "-" },
  },
  {
    case: "a canary rollout at step 1 of 3: both versions named (the canary's from the marker)",
    live: { functionVersion: "5", version: "1.1.0", weights: { "7": 0.25 } },
    marker: {
      version: "1.1.0",
      canary: { version: "1.3.0", weight: 25 },
      functionVersion: "5",
      weights: { "7": 0.25 },
      rollout: { fromVersion: "1.0.0", fromFunctionVersion: "4", step: 1, steps: 2, since: SINCE },
    },
    action: "noop",
    expect: {
      live: "1.1.0 (v5) + 25% 1.3.0 (v7)",
      state: "in-sync",
      changedOutside: false,
      // Steps are counted as the rollout and `apply` count them: [10, 50] is 10% -> 50% -> 100%.
      rollout: "step 1 of 3 since 2026-11-30T12:00:00.000Z (from 1.0.0)",
    },
  },
  {
    case: "baking at 100%",
    live: { functionVersion: "5", version: "1.1.0" },
    marker: AT_FULL,
    // While the bake runs the plan holds the rollout step (it waits for the bake's end).
    action: "rollforward",
    expect: { live: "1.1.0 (v5)", state: "drift", changedOutside: false, rollout: "at 100%, baking since 2026-11-30T12:00:00.000Z (from 1.0.0)" },
  },
  {
    case: "the bake is over (the plan is a noop): no rollout in progress any more",
    live: { functionVersion: "5", version: "1.1.0" },
    marker: AT_FULL,
    action: "noop",
    expect: { live: "1.1.0 (v5)", state: "in-sync", changedOutside: false, rollout: "-" },
  },
  {
    case: "moved by hand since: drift, changed outside, the old rollout is not shown",
    live: { functionVersion: "3", version: "0.9.0" },
    marker: {
      version: "1.1.0",
      functionVersion: "5",
      weights: {},
      rollout: { fromVersion: "1.0.0", fromFunctionVersion: "4", step: 1, steps: 2, since: SINCE },
    },
    action: "rollforward",
    expect: { live: "0.9.0 (v3)", state: "drift", changedOutside: true, rollout: "-" },
  },
  {
    case: "no marker (never written by lambda-gitops): not 'changed outside'",
    live: { functionVersion: "3", version: null },
    action: "rollforward",
    expect: { live: "v3", state: "drift", changedOutside: false, rollout: "-" },
  },
  {
    case: "no LIVE alias",
    live: null,
    action: "create",
    expect: { live: "(no alias)", state: "drift", changedOutside: false, rollout: "-" },
  },
  {
    case: "blocked",
    live: { functionVersion: "3", version: "0.9.0" },
    action: "blocked",
    expect: { live: "0.9.0 (v3)", state: "blocked", changedOutside: false, rollout: "-" },
  },
];

describe("status (pure)", () => {
  for (const c of cases) {
    it(c.case, () => {
      const s = functionStatus(entryOf(c));
      expect({ live: s.live, state: s.state, changedOutside: s.changedOutside, rollout: describeRollout(s.rollout) }).to.deep.equal(c.expect);
    });
  }

  it("a promotion waiting for a source role is pending (out of sync), not blocked", () => {
    const entry = {
      ...entryOf(cases[0] as Case),
      action: { kind: "blocked", code: "no-source", reason: "version 1.2.0 is missing here and no source account is configured" },
    } as PlanEntry;
    expect(functionStatus(entry).state).to.equal("pending");
    const table = renderStatusTable({ liveAlias: "LIVE", entries: [entry] } as Plan);
    expect(table).to.include("pending: version 1.2.0 is missing here");
    expect(table.split("\n").at(-1)).to.equal("Status: 0 in sync, 0 drift, 1 pending, 0 blocked.");
  });

  it("the table says what apply would do and sums up", () => {
    const plan = { liveAlias: "LIVE", entries: cases.map(entryOf) } as Plan;
    const table = renderStatusTable(plan);
    expect(table).to.include("drift: apply would rollforward; LIVE was changed outside lambda-gitops");
    expect(table).to.include("blocked: version 1.1.0 exists nowhere");
    expect(table.split("\n").at(-1)).to.equal("Status: 3 in sync, 4 drift, 1 blocked; 1 changed outside lambda-gitops.");
  });

  describe("a rollout's end, read from the real planner (issue 19)", () => {
    const ROLLOUT = { steps: [10, 50], intervalSeconds: 300, bakeSeconds: 0, alarms: [] };
    const spec: FunctionSpec = { name: "team-a-orders", version: "1.1.0", rollout: ROLLOUT, index: 0, at: { line: 1, column: 1 } };
    const planAt = (bakeSeconds: number, now: number) => {
      const aliases = [alias("1-0-0", "4"), alias("1-1-0", "5"), alias("LIVE", "5", {}, "r", encodeMarker(AT_FULL))];
      const observation = observedInTarget(aliases, ["1.1.0"]);
      return planFunction({ ...spec, rollout: { ...ROLLOUT, bakeSeconds } }, observation, "LIVE", undefined, {
        alarms: new Map(),
        now,
      });
    };

    it("after a bake of 0 s, status shows no rollout (it used to say 'baking')", () => {
      const s = functionStatus(planAt(0, SINCE * 1000));
      expect(describeRollout(s.rollout)).to.equal("-");
      expect(s.state).to.equal("in-sync");
    });

    it("during a bake of 10 minutes, status says baking; once it ended, nothing", () => {
      expect(describeRollout(functionStatus(planAt(600, SINCE * 1000 + 60_000)).rollout)).to.equal(
        "at 100%, baking since 2026-11-30T12:00:00.000Z (from 1.0.0)",
      );
      expect(describeRollout(functionStatus(planAt(600, SINCE * 1000 + 600_000)).rollout)).to.equal("-");
    });
  });
});
