import { expect } from "chai";
import type { Observation } from "../../../reconciler/observe/observe.ts";
import { buildPlan } from "../../../reconciler/plan/plan.ts";
import { applyGroupRules } from "../../../reconciler/plan/groups.ts";
import { planToJson, renderPlanMarkdown, renderPlanTable } from "../../../reconciler/report/report.ts";
import type { FunctionSpec } from "../../../reconciler/input/definitions.ts";
import { alias, observedInTarget, spec } from "../../support/fixtures.ts";

/** A function whose LIVE serves 1.0.0 (v1) and which has 2.0.0 (v2) behind its version alias. */
const atOne = (): Observation =>
  observedInTarget([alias("LIVE", "1"), alias("1-0-0", "1"), alias("2-0-0", "2")], ["1.0.0", "2.0.0"]);
const member = (name: string, version: string, group?: string): FunctionSpec => ({
  ...spec(name, version),
  ...(group !== undefined ? { group } : {}),
});

interface Row {
  case: string;
  /** name -> [declared version, group, observation ("missing" = no such function)] */
  functions: [string, string, string | undefined, "observed" | "missing"][];
  /** name -> action kind (and block code) after the group rules */
  expect: Record<string, string>;
  reason?: Record<string, RegExp>;
}

const rows: Row[] = [
  {
    case: "one member blocked: every member blocked, naming the member and its reason; outsiders untouched",
    functions: [
      ["team-a-api", "2.0.0", "orders", "observed"],
      ["team-a-worker", "2.0.0", "orders", "missing"],
      ["team-a-reports", "2.0.0", undefined, "observed"],
    ],
    expect: {
      "team-a-api": "blocked:group-blocked",
      "team-a-worker": "blocked:function-missing",
      "team-a-reports": "rollforward",
    },
    reason: {
      "team-a-api": /^group "orders" does not move: member "team-a-worker" is blocked: function "team-a-worker" does not exist/,
    },
  },
  {
    case: "two members to change: blocked as a whole until apply moves a group together (fail closed)",
    functions: [
      ["team-a-api", "2.0.0", "orders", "observed"],
      ["team-a-worker", "2.0.0", "orders", "observed"],
    ],
    expect: { "team-a-api": "blocked:group-apply", "team-a-worker": "blocked:group-apply" },
    reason: { "team-a-worker": /group "orders" has 2 members to change \("team-a-api", "team-a-worker"\)/ },
  },
  {
    case: "one member to change, the other already live: planned as usual",
    functions: [
      ["team-a-api", "2.0.0", "orders", "observed"],
      ["team-a-worker", "1.0.0", "orders", "observed"],
    ],
    expect: { "team-a-api": "rollforward", "team-a-worker": "noop" },
  },
  {
    case: "a group of one is allowed",
    functions: [["team-a-api", "2.0.0", "solo", "observed"]],
    expect: { "team-a-api": "rollforward" },
  },
  {
    case: "two groups are independent",
    functions: [
      ["team-a-api", "2.0.0", "orders", "observed"],
      ["team-a-worker", "2.0.0", "billing", "missing"],
    ],
    expect: { "team-a-api": "rollforward", "team-a-worker": "blocked:function-missing" },
  },
];

describe("plan: release sets (plan/groups.ts)", () => {
  for (const row of rows) {
    it(row.case, () => {
      const definition = {
        file: "lambdas.json",
        functions: row.functions.map(([name, version, group]) => member(name, version, group)),
      };
      const observations = new Map<string, Observation>(
        row.functions.map(([name, , , seen]) => [name, seen === "missing" ? { kind: "missing-function" } : atOne()]),
      );
      const plan = buildPlan(definition, observations, "LIVE");
      const got = Object.fromEntries(
        plan.entries.map((e) => [e.name, e.action.kind === "blocked" ? `blocked:${e.action.code}` : e.action.kind]),
      );
      expect(got).to.deep.equal(row.expect);
      for (const [name, pattern] of Object.entries(row.reason ?? {})) {
        const entry = plan.entries.find((e) => e.name === name);
        expect(entry?.action.kind === "blocked" ? entry.action.reason : "").to.match(pattern);
      }
      // Every member carries its group; an outsider carries none.
      for (const e of plan.entries) {
        expect(e.group).to.equal(row.functions.find(([name]) => name === e.name)?.[2]);
      }
    });
  }

  it("leaves a plan without groups unchanged", () => {
    const plan = buildPlan(
      { file: "lambdas.json", functions: [member("team-a-x", "2.0.0")] },
      new Map([["team-a-x", atOne()]]),
      "LIVE",
    );
    expect(applyGroupRules(plan.entries)).to.deep.equal(plan.entries);
  });

  it("the table, the Markdown comment and the JSON name each member's group", () => {
    const plan = buildPlan(
      {
        file: "lambdas.json",
        functions: [member("team-a-api", "2.0.0", "orders"), member("team-a-reports", "2.0.0")],
      },
      new Map([
        ["team-a-api", atOne()],
        ["team-a-reports", atOne()],
      ]),
      "LIVE",
    );
    expect(renderPlanTable(plan)).to.match(/^team-a-api \[orders\] +rollforward/m);
    expect(renderPlanTable(plan)).to.match(/^team-a-reports +rollforward/m);
    expect(renderPlanMarkdown(plan)).to.include("| `team-a-api` (group `orders`) |");
    const json = planToJson(plan);
    expect(json.functions.map((f) => f.group)).to.deep.equal(["orders", undefined]);
  });
});

describe("--target and release sets (input/targets.ts)", () => {
  it("a targeted member brings every member of its group, and nothing else", async () => {
    const { selectTargets } = await import("../../../reconciler/input/targets.ts");
    const definition = {
      file: "lambdas.json",
      functions: [
        member("team-a-api", "2.0.0", "orders"),
        member("team-a-worker", "2.0.0", "orders"),
        member("team-a-reports", "2.0.0"),
        member("team-a-billing", "2.0.0", "billing"),
      ],
    };
    const targeted = selectTargets(definition, ["team-a-worker"]);
    expect(targeted.ok && targeted.definition.functions.map((f) => f.name)).to.deep.equal([
      "team-a-api",
      "team-a-worker",
    ]);
    const plain = selectTargets(definition, ["team-a-reports"]);
    expect(plain.ok && plain.definition.functions.map((f) => f.name)).to.deep.equal(["team-a-reports"]);
  });
});

describe("the pipeline job result names the group", () => {
  it("every member's failure line carries the group's reason", async () => {
    const { roundOutcome } = await import("../../../reconciler/report/round.ts");
    const plan = buildPlan(
      {
        file: "lambdas.json",
        functions: [member("team-a-api", "2.0.0", "orders"), member("team-a-worker", "2.0.0", "orders")],
      },
      new Map<string, Observation>([
        ["team-a-api", atOne()],
        ["team-a-worker", { kind: "missing-function" }],
      ]),
      "LIVE",
    );
    const results = plan.entries.map((entry) => ({
      key: entry.key,
      name: entry.name,
      entry,
      status: "blocked" as const,
      liveAfter: null,
      functionVersion: null,
      rollout: null,
      published: {},
      steps: [],
      replanned: false,
      ...(entry.action.kind === "blocked" ? { error: entry.action.reason } : {}),
    }));
    const outcome = roundOutcome({ liveAlias: "LIVE", results }, { v: 1, round: 1, firstJobId: "job-1" }, 3);
    expect(outcome.kind === "failed" ? outcome.message : outcome.kind).to.equal(
      '2 of 2 function(s) failed: team-a-api: group "orders" does not move: member "team-a-worker" is blocked: function "team-a-worker" does not exist in the target account; team-a-worker: function "team-a-worker" does not exist in the target account',
    );
  });
});
