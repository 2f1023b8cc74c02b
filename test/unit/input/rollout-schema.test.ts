import { expect } from "chai";
import {
  resolveRollout,
  rolloutFieldSchema,
  rolloutObjectSchema,
  rolloutUnionIssues,
  toRollout,
} from "../../../reconciler/input/rollout-schema.ts";

/** Each problem as "path: message", in zod's order, with the union made readable as the parser does. */
function problems(value: unknown): string[] {
  const result = rolloutFieldSchema.safeParse(value);
  if (result.success) return [];
  return result.error.issues
    .flatMap((issue) => (issue.code === "invalid_union" ? rolloutUnionIssues(issue, value) : [issue]))
    .map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("rollout in the definition: validation", () => {
  const valid: { case: string; value: unknown }[] = [
    { case: "the issue's example", value: { steps: [10, 50], interval: "5m", bake: "10m", alarms: ["a-5xx", "a-p99"], smoke: { payload: { ping: true } } } },
    { case: "all at once", value: "all-at-once" },
    { case: "no steps (all at once, still watched), no interval needed", value: { steps: [], bake: "1m", alarms: ["a"] } },
    { case: "two-decimal steps and 1s durations", value: { steps: [0.01, 12.5, 99.99], interval: "1s" } },
    { case: "ten steps", value: { steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], interval: "1m" } },
    { case: "combined durations", value: { steps: [50], interval: "1h30m", bake: "2m30s" } },
    { case: "23h in total", value: { steps: [50], interval: "22h", bake: "1h" } },
  ];
  for (const row of valid) {
    it(`accepts ${row.case}`, () => {
      expect(problems(row.value)).to.deep.equal([]);
    });
  }

  const invalid: { case: string; value: unknown; expect: string[] }[] = [
    {
      case: "a step of 0 and of 100",
      value: { steps: [0, 100], interval: "1m" },
      expect: [
        "steps.0: a rollout step must be greater than 0 and less than 100 (found 0); 100% always comes after the last step",
        "steps.1: a rollout step must be greater than 0 and less than 100 (found 100); 100% always comes after the last step",
      ],
    },
    {
      case: "three decimals (the canary weight check, worded for steps)",
      value: { steps: [12.345], interval: "1m" },
      expect: ["steps.0: the rollout step 12.345 has more than two decimal places (e.g. 12.35)"],
    },
    {
      case: "steps not strictly increasing",
      value: { steps: [10, 50, 50], interval: "1m" },
      expect: ["steps.2: rollout steps must be strictly increasing: 50 comes after 50"],
    },
    {
      case: "eleven steps",
      value: { steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], interval: "1s" },
      expect: ["steps: a rollout has at most 10 steps"],
    },
    {
      case: "steps without an interval",
      value: { steps: [10] },
      expect: [': missing required key "interval": how long each step holds (e.g. "5m")'],
    },
    {
      case: "an interval of 0s",
      value: { steps: [10], interval: "0s" },
      expect: ['interval: "0s" is too short: at least 1s'],
    },
    {
      case: "a bad duration",
      value: { steps: [10], interval: "5 minutes" },
      expect: ['interval: "5 minutes" is not a duration: spaces are not accepted (write "30s", "5m", "1h" or "1h30m")'],
    },
    {
      case: "a rollout longer than the pipeline action allows",
      value: { steps: [10, 50], interval: "12h" },
      expect: [
        ": the rollout lasts 24h (2 steps × 12h interval + 0s bake) but must fit in 23h: CodePipeline fails a " +
          "Lambda invoke action after 24h, and 1h is kept for promotion, the smoke invocation and hand-overs; " +
          "use fewer steps, a shorter interval or bake",
      ],
    },
    {
      case: "an alarm listed twice, and an empty alarm name",
      value: { steps: [], alarms: ["a", "", "a"] },
      expect: ["alarms.1: an alarm name is empty", 'alarms.2: alarm "a" is listed more than once'],
    },
    {
      case: "a misspelt key",
      value: { steps: [10], interval: "1m", alarm: ["a"] },
      expect: [': Unrecognized key: "alarm"'],
    },
    {
      case: "a misspelt all-at-once",
      value: "all-at-one",
      expect: [': expected "all-at-once" or a rollout object with "steps": did you mean "all-at-once"?'],
    },
    {
      case: "a number",
      value: 5,
      expect: [': expected "all-at-once" or a rollout object with "steps"'],
    },
  ];
  for (const row of invalid) {
    it(`rejects ${row.case}`, () => {
      expect(problems(row.value)).to.deep.equal(row.expect);
    });
  }
});

describe("rollout in the definition: resolution per function", () => {
  const fileDefault = rolloutObjectSchema.parse({ steps: [10, 50], interval: "5m", alarms: ["a"] });
  const own = rolloutObjectSchema.parse({ steps: [], bake: "1m", smoke: { payload: { ping: 1 } } });

  it("converts durations to seconds and applies defaults (bake 0s, no alarms, no smoke)", () => {
    expect(toRollout(rolloutObjectSchema.parse({ steps: [25], interval: "1h30m" }))).to.deep.equal({
      steps: [25],
      intervalSeconds: 5400,
      bakeSeconds: 0,
      alarms: [],
    });
  });

  const rows: { case: string; own: Parameters<typeof resolveRollout>[0]; fileDefault: Parameters<typeof resolveRollout>[1]; expect: unknown }[] = [
    { case: "the file's default applies to a function without its own", own: undefined, fileDefault, expect: { steps: [10, 50], intervalSeconds: 300, bakeSeconds: 0, alarms: ["a"] } },
    { case: "a function's own rollout replaces the default entirely", own, fileDefault, expect: { steps: [], intervalSeconds: 0, bakeSeconds: 60, alarms: [], smoke: { payload: { ping: 1 } } } },
    { case: '"all-at-once" opts out of the default', own: "all-at-once", fileDefault, expect: undefined },
    { case: "no rollout anywhere: none", own: undefined, fileDefault: undefined, expect: undefined },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(resolveRollout(row.own, row.fileDefault)).to.deep.equal(row.expect);
    });
  }
});
