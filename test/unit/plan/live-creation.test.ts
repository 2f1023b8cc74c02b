import { expect } from "chai";
import { liveCreation, liveCreationWarning } from "../../../reconciler/plan/live-creation.ts";
import type { Plan, PlanEntry } from "../../../reconciler/plan/plan.ts";
import { renderPlanMarkdown } from "../../../reconciler/report/report.ts";

type Kind = "create" | "repoint" | "noop" | "blocked";

function entry(name: string, kind: Kind): PlanEntry {
  const exists = kind === "repoint" || kind === "noop";
  const routing = { primary: { version: "1.0.0", functionVersion: "2" }, additional: [] };
  const route = { kind: "route", alias: "PROD", from: null, to: routing, revisionId: null, declared: { version: "1.0.0" }, description: null };
  return {
    key: { account: "target", region: "eu-west-1", name },
    name,
    declared: { version: "1.0.0" },
    live: exists ? { routing: { functionVersion: "1", weights: {} }, version: null, revisionId: "r", description: "", marker: undefined } : null,
    action:
      kind === "blocked"
        ? { kind: "blocked", code: "function-missing", reason: "missing" }
        : kind === "noop"
          ? { kind: "noop", routing, steps: [] }
          : { kind: kind === "create" ? "create" : "rollforward", routing, steps: [route] },
  } as unknown as PlanEntry;
}

function planOf(kinds: Kind[]): Plan {
  return { liveAlias: "PROD", entries: kinds.map((k, i) => entry(`team-a-f${i}`, k)) };
}

describe("creating LIVE: the loud warning threshold (more than half of the functions)", () => {
  const cases: [Kind[], number, boolean][] = [
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
      // The pull-request comment (and plan --format markdown) says it before the table, or not at all.
      const markdown = renderPlanMarkdown(plan);
      expect(markdown.includes("CREATES the alias"), markdown).to.equal(loud);
      if (loud) expect(markdown.indexOf("CREATES")).to.be.lessThan(markdown.indexOf("| Function |"));
    });
  }

  it("names the alias and how many functions, and says 'every' when it is all of them", () => {
    expect(liveCreationWarning(planOf(["create", "create"]))).to.include('CREATES the alias "PROD" on every function (2)');
    expect(liveCreationWarning(planOf(["create", "create", "noop"]))).to.include("on 2 of 3 functions");
  });

  it("shows create as its own action in the table", () => {
    const md = renderPlanMarkdown(planOf(["create", "repoint"]));
    expect(md, md).to.include("| `team-a-f0` | create | (no alias) | 1.0.0 | create PROD -> v2 |");
  });
});
