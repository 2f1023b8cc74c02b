import { expect } from "chai";
import { encodeMarker, decodeMarker, type Marker } from "../../../reconciler/plan/marker.ts";
import type { Plan, PlanEntry } from "../../../reconciler/plan/plan.ts";
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
    desired: { version: "1.1.0" },
    live: c.live
      ? {
          exists: true,
          functionVersion: c.live.functionVersion,
          version: c.live.version,
          weights: c.live.weights ?? {},
          revisionId: "r",
          description,
          marker: decodeMarker(description),
        }
      : { exists: false, functionVersion: null, version: null, weights: {}, revisionId: null, description: "", marker: undefined },
    action:
      c.action === "blocked"
        ? { kind: "blocked", code: "version-missing", reason: "version 1.1.0 exists nowhere" }
        : { kind: c.action, routing, steps: [] },
  } as unknown as PlanEntry;
}

const SINCE = Date.UTC(2026, 10, 30, 12, 0, 0) / 1000;
const cases: Case[] = [
  {
    case: "in sync, written by lambda-gitops",
    live: { functionVersion: "5", version: "1.1.0" },
    marker: { version: "1.1.0", functionVersion: "5", weights: {} },
    action: "noop",
    expect: { live: "1.1.0 (v5)", state: "in-sync", changedOutside: false, rollout: "-" },
  },
  {
    case: "a canary rollout at step 1 of 2: both versions named (the canary's from the marker)",
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
      rollout: "step 1 of 2 since 2026-11-30T12:00:00.000Z (from 1.0.0)",
    },
  },
  {
    case: "baking at 100%",
    live: { functionVersion: "5", version: "1.1.0" },
    marker: {
      version: "1.1.0",
      functionVersion: "5",
      weights: {},
      rollout: { fromVersion: "1.0.0", fromFunctionVersion: "4", step: 3, steps: 2, since: SINCE },
    },
    action: "noop",
    expect: { live: "1.1.0 (v5)", state: "in-sync", changedOutside: false, rollout: "at 100%, baking since 2026-11-30T12:00:00.000Z (from 1.0.0)" },
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
    expect(table.split("\n").at(-1)).to.equal("Status: 3 in sync, 3 drift, 1 blocked; 1 changed outside lambda-gitops.");
  });
});
