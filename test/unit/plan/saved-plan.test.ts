import { expect } from "chai";
import type { Plan, PlanEntry } from "../../../reconciler/plan/plan.ts";
import {
  decodeSavedPlan,
  encodeSavedPlan,
  planDifferences,
  SAVED_PLAN_VERSION,
} from "../../../reconciler/plan/saved-plan.ts";
import { selectTargets } from "../../../reconciler/input/targets.ts";
import type { Definition } from "../../../reconciler/input/definitions.ts";
import { settingsDisagreements } from "../../../reconciler/entry/settings.ts";
import { validateParameters } from "../../../reconciler/input/parameters.ts";

function entry(name: string, live: { functionVersion: string; revisionId: string; weights?: Record<string, number> } | null): PlanEntry {
  return {
    name,
    declared: { version: "1.0.0" },
    live: live
      ? {
          routing: { functionVersion: live.functionVersion, weights: live.weights ?? {} },
          version: null,
          revisionId: live.revisionId,
          description: "",
        }
      : null,
    action: { kind: "rollforward", routing: { functionVersion: "3", weights: {} } },
  } as unknown as PlanEntry;
}
const planOf = (...entries: PlanEntry[]): Plan => ({ liveAlias: "LIVE", entries }) as unknown as Plan;

const ENVELOPE = {
  createdAt: "2026-11-30T17:00:00.000Z",
  toolVersion: "0.1.0",
  file: "lambdas.json",
  definition: '{"lambdas":[]}',
  targets: null,
  settings: { allowedPrefixes: ["team-a-"] },
  target: { account: "222222222222", region: "eu-west-1" },
  source: null,
};

describe("saved plans", () => {
  const saved = planOf(entry("a", { functionVersion: "1", revisionId: "r1" }), entry("b", null));

  it("round-trip: what is encoded decodes, and an unchanged world has no difference", () => {
    const decoded = decodeSavedPlan(encodeSavedPlan({ ...ENVELOPE, plan: saved }));
    expect(decoded.ok).to.equal(true);
    if (!decoded.ok) return;
    expect(decoded.saved.version).to.equal(SAVED_PLAN_VERSION);
    expect(planDifferences(decoded.saved.plan, planOf(entry("a", { functionVersion: "1", revisionId: "r1" }), entry("b", null)))).to.deep.equal([]);
  });

  const cases: [string, Plan, string[]][] = [
    [
      "LIVE repointed",
      planOf(entry("a", { functionVersion: "2", revisionId: "r2" }), entry("b", null)),
      ["a: LIVE changed since the plan: it routed v1, now v2"],
    ],
    [
      "LIVE given a canary weight",
      planOf(entry("a", { functionVersion: "1", revisionId: "r2", weights: { "2": 0.1 } }), entry("b", null)),
      ["a: LIVE changed since the plan: it routed v1, now v1 + 10% v2"],
    ],
    [
      "same routing, new RevisionId",
      planOf(entry("a", { functionVersion: "1", revisionId: "r9" }), entry("b", null)),
      ["a: LIVE changed since the plan (RevisionId r1 -> r9)"],
    ],
    [
      "LIVE created meanwhile",
      planOf(entry("a", { functionVersion: "1", revisionId: "r1" }), entry("b", { functionVersion: "1", revisionId: "x" })),
      ["b: LIVE changed since the plan: it routed no LIVE alias, now v1"],
    ],
    [
      "a function more and one less",
      planOf(entry("a", { functionVersion: "1", revisionId: "r1" }), entry("c", null)),
      ["b: in the saved plan, not in this run", "c: not in the saved plan"],
    ],
  ];
  for (const [what, fresh, expected] of cases) {
    it(`names what changed: ${what}`, () => expect(planDifferences(saved, fresh)).to.deep.equal(expected));
  }

  it("any other difference in an entry is named as a changed plan", () => {
    const fresh = planOf(entry("a", { functionVersion: "1", revisionId: "r1" }), entry("b", null));
    (fresh.entries[1] as unknown as { action: unknown }).action = { kind: "blocked", code: "function-missing", reason: "gone" };
    expect(planDifferences(saved, fresh)).to.deep.equal(["b: its plan changed since it was saved (a version, its code or the function changed): plan again"]);
  });

  const bad: [string, string][] = [
    ["not json", "not JSON"],
    ['{"format":"terraform"}', "is not a saved plan"],
    // Version 1 (before LIVE was one value, observe/live.ts): planned again, never misread.
    [JSON.stringify({ format: "lambda-gitops-plan", version: 1 }), "format version 1; this lambda-gitops reads version 2"],
    [JSON.stringify({ format: "lambda-gitops-plan", version: 3 }), "format version 3; this lambda-gitops reads version 2"],
    [JSON.stringify({ format: "lambda-gitops-plan", version: 2, plan: {} }), "damaged"],
    [JSON.stringify({ ...JSON.parse(encodeSavedPlan({ ...ENVELOPE, plan: saved })), targets: [1] }), "damaged"],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${text.slice(0, 40)}: ${message}`, () => {
      const decoded = decodeSavedPlan(text);
      expect(decoded.ok).to.equal(false);
      expect(!decoded.ok && decoded.message).to.include(message);
    });
  }
});

describe("--target", () => {
  const definition = {
    file: "lambdas.json",
    functions: ["team-a-orders", "team-a-search"].map((name) => ({ name, version: "1.0.0" })),
  } as unknown as Definition;
  const cases: [string[] | undefined, string[] | string][] = [
    [undefined, ["team-a-orders", "team-a-search"]],
    [[], ["team-a-orders", "team-a-search"]],
    [["team-a-search"], ["team-a-search"]],
    [["team-a-serch"], "--target team-a-serch: no function of that name in lambdas.json; did you mean team-a-search?"],
    [["nothing-like-it"], "--target nothing-like-it: no function of that name in lambdas.json"],
  ];
  for (const [targets, expected] of cases) {
    it(`${JSON.stringify(targets)} -> ${JSON.stringify(expected)}`, () => {
      const selected = selectTargets(definition, targets);
      if (typeof expected === "string") expect(!selected.ok && selected.problems).to.deep.equal([expected]);
      else expect(selected.ok && selected.definition.functions.map((f) => f.name)).to.deep.equal(expected);
    });
  }
});

describe("settings given again with apply --plan", () => {
  const parsed = validateParameters({ allowedPrefixes: ["team-a-", "team-b-"], concurrency: 8 }, "t");
  const saved = parsed.ok ? parsed.parameters : (undefined as never);
  const cases: [Record<string, string | string[]>, string[]][] = [
    [{}, []],
    [{ "allowed-prefix": ["team-b-,team-a-"] }, []],
    [{ "allowed-prefix": ["team-a-"] }, ["--allowed-prefix team-a-: the saved plan was made with team-a-,team-b-"]],
    [{ concurrency: "8", "live-alias": "LIVE" }, []],
    [{ concurrency: "4" }, ["--concurrency 4: the saved plan was made with 8"]],
    [{ "staging-bucket": "b" }, ["--staging-bucket b: the saved plan was made with no --staging-bucket"]],
  ];
  for (const [values, expected] of cases) {
    it(`${JSON.stringify(values)} -> ${expected.length === 0 ? "agrees" : expected.join("; ")}`, () =>
      expect(settingsDisagreements(values, saved)).to.deep.equal(expected));
  }
});
