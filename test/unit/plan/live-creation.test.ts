import { expect } from "chai";
import { liveCreation, liveCreationWarning } from "../../../reconciler/plan/live-creation.ts";
import type { Plan, PlanEntry } from "../../../reconciler/plan/plan.ts";

function entry(name: string, kind: "create" | "repoint" | "noop" | "blocked"): PlanEntry {
  const exists = kind === "repoint" || kind === "noop";
  const routing = { functionVersion: "2", weights: {} };
  return {
    name,
    desired: { version: "1.0.0" },
    live: { exists, functionVersion: exists ? "1" : null, version: null, weights: {}, revisionId: exists ? "r" : null },
    action:
      kind === "blocked"
        ? { kind: "blocked", code: "function-missing", reason: "missing" }
        : kind === "noop"
          ? { kind: "noop", routing }
          : { kind: "rollforward", routing },
  } as PlanEntry;
}

function planOf(kinds: ("create" | "repoint" | "noop" | "blocked")[]): Plan {
  return { liveAlias: "PROD", entries: kinds.map((k, i) => entry(`team-a-f${i}`, k)) } as Plan;
}

describe("creating LIVE: the loud warning threshold (more than half of the functions)", () => {
  const cases: [("create" | "repoint" | "noop" | "blocked")[], number, boolean][] = [
    [[], 0, false],
    [["create"], 1, true],
    [["create", "repoint"], 1, false],
    [["create", "create", "repoint"], 2, true],
    [["create", "repoint", "noop", "create"], 2, false],
    [["create", "create", "create", "noop"], 3, true],
    [["blocked", "blocked", "create"], 1, false],
    [["create", "create", "create", "create", "create"], 5, true],
  ];
  for (const [kinds, creating, loud] of cases) {
    it(`[${kinds.join(", ")}] -> ${creating} created, ${loud ? "loud" : "quiet"}`, () => {
      const plan = planOf(kinds);
      expect(liveCreation(plan).creating).to.have.length(creating);
      expect(liveCreation(plan).loud).to.equal(loud);
      expect(liveCreationWarning(plan) !== undefined).to.equal(loud);
    });
  }

  it("names the alias and how many functions, and says 'every' when it is all of them", () => {
    expect(liveCreationWarning(planOf(["create", "create"]))).to.include('CREATES the alias "PROD" on every function (2)');
    expect(liveCreationWarning(planOf(["create", "create", "noop"]))).to.include("on 2 of 3 functions");
  });
});
