/**
 * The stack's pin (input/pin.ts): what the deployed stack allows, which neither the event nor the
 * pipeline's UserParameters can widen. Table-driven, one row per decision.
 */
import { expect } from "chai";
import {
  checkActionTarget,
  checkPipeline,
  functionNameOf,
  narrowPrefixes,
  OPEN_PIN,
  type Pin,
  readPin,
} from "../../../reconciler/input/pin.ts";

const pinned = (over: Partial<Pin> = {}): Pin => ({ ...OPEN_PIN, ...over });

describe("pin: readPin (the stack's environment)", () => {
  const rows: { env: Record<string, string>; expect: Pin | RegExp }[] = [
    { env: {}, expect: OPEN_PIN },
    {
      env: { PIPELINE_NAMES: "a, b", ALLOWED_PREFIXES: "team-a-,team_b_", AWS_LAMBDA_FUNCTION_NAME: "gitops" },
      expect: {
        pipelineNames: ["a", "b"],
        allowedPrefixes: ["team-a-", "team_b_"],
        protectedFunctions: ["gitops"],
        self: "gitops",
      },
    },
    {
      env: { PROTECTED_FUNCTIONS: "pr-plan,gitops", AWS_LAMBDA_FUNCTION_NAME: "gitops" },
      expect: pinned({ protectedFunctions: ["gitops", "pr-plan"], self: "gitops" }),
    },
    { env: { PROTECTED_FUNCTIONS: "" }, expect: OPEN_PIN },
    { env: { PROTECTED_FUNCTIONS: "a,b c" }, expect: /PROTECTED_FUNCTIONS: "b c" is not a function name/ },
    { env: { PIPELINE_NAMES: "" }, expect: /PIPELINE_NAMES: "" is not a pipeline name/ },
    { env: { ALLOWED_PREFIXES: "team-a" }, expect: /ALLOWED_PREFIXES: "team-a" is not an allowed prefix/ },
    { env: { ALLOWED_PREFIXES: "team-a-,*" }, expect: /ALLOWED_PREFIXES: "\*" is not an allowed prefix/ },
    { env: { ALLOWED_PREFIXES: "" }, expect: /ALLOWED_PREFIXES: "" is not an allowed prefix/ },
  ];
  for (const row of rows) {
    it(`${JSON.stringify(row.env)} -> ${row.expect instanceof RegExp ? `fails closed ${row.expect}` : "a pin"}`, () => {
      const result = readPin(row.env);
      if (row.expect instanceof RegExp) {
        expect(result.ok).to.equal(false);
        if (!result.ok) expect(result.problems.join("\n")).to.match(row.expect);
      } else {
        expect(result).to.deep.equal({ ok: true, pin: row.expect });
      }
    });
  }
});

describe("pin: checkPipeline", () => {
  const rows: { pin: Pin; pipeline: string | undefined; ok: boolean }[] = [
    { pin: OPEN_PIN, pipeline: "anything", ok: true },
    { pin: OPEN_PIN, pipeline: undefined, ok: true },
    { pin: pinned({ pipelineNames: ["p1", "p2"] }), pipeline: "p2", ok: true },
    { pin: pinned({ pipelineNames: ["p1"] }), pipeline: "p10", ok: false },
    { pin: pinned({ pipelineNames: ["p1"] }), pipeline: undefined, ok: false },
  ];
  for (const row of rows) {
    it(`${JSON.stringify(row.pin.pipelineNames)} serves ${row.pipeline}: ${row.ok}`, () => {
      expect(checkPipeline(row.pin, row.pipeline).ok).to.equal(row.ok);
    });
  }
});

describe("pin: checkActionTarget and functionNameOf", () => {
  const rows: { self: string | undefined; action: string | undefined; ok: boolean }[] = [
    { self: undefined, action: "anything", ok: true },
    { self: "gitops", action: undefined, ok: true },
    { self: "gitops", action: "gitops", ok: true },
    { self: "gitops", action: "gitops:LIVE", ok: true },
    { self: "gitops", action: "arn:aws:lambda:eu-west-1:123456789012:function:gitops", ok: true },
    { self: "gitops", action: "arn:aws:lambda:eu-west-1:123456789012:function:gitops:3", ok: true },
    { self: "gitops", action: "gitops-other", ok: false },
    { self: "gitops", action: "arn:aws:lambda:eu-west-1:123456789012:function:other", ok: false },
  ];
  for (const row of rows) {
    it(`self ${row.self}, action ${row.action}: ${row.ok}`, () => {
      expect(checkActionTarget(pinned({ self: row.self }), row.action).ok).to.equal(row.ok);
    });
  }
  it("takes the name out of an ARN or a qualified name", () => {
    expect(functionNameOf("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:LIVE")).to.equal("f");
    expect(functionNameOf("f:LIVE")).to.equal("f");
  });
});

describe("pin: narrowPrefixes (UserParameters may narrow the stack's prefixes, never widen them)", () => {
  const rows: { stack: string[] | undefined; requested: string[]; refused: string[] }[] = [
    { stack: undefined, requested: ["team-"], refused: [] },
    { stack: ["team-a-"], requested: ["team-a-"], refused: [] },
    { stack: ["team-a-"], requested: ["team-a-orders-"], refused: [] },
    { stack: ["team-a-", "team-b-"], requested: ["team-b-x_"], refused: [] },
    { stack: ["team-a-"], requested: ["team-"], refused: ["team-"] },
    { stack: ["team-a-"], requested: ["team-b-", "team-a-", "t-"], refused: ["team-b-", "t-"] },
  ];
  for (const row of rows) {
    it(`stack ${JSON.stringify(row.stack)}, requested ${JSON.stringify(row.requested)}: refused ${JSON.stringify(row.refused)}`, () => {
      const result = narrowPrefixes(pinned({ allowedPrefixes: row.stack }), row.requested);
      const refused = result.ok ? [] : result.problems.map((p) => /prefix "([^"]*)"/.exec(p.message)?.[1]);
      expect(refused).to.deep.equal(row.refused);
      if (!result.ok) expect(result.problems[0]!.message).to.match(/not allowed by the stack.*never widen them/);
    });
  }
});
