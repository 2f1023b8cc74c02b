import { expect } from "chai";
import { formatProblem } from "../../../reconciler/core/errors.ts";
import { parseDefinition } from "../../../reconciler/input/definitions.ts";

const j = (...lines: string[]) => lines.join("\n");

function problems(text: string): string[] {
  const result = parseDefinition(text, "lambdas.json");
  if (result.ok) throw new Error("expected problems");
  return result.problems.map(formatProblem);
}

describe("definition regions", () => {
  it("the file's regions are every function's default; a function's own regions replace them", () => {
    const text = j(
      "{",
      '  "regions": ["us-east-1", "eu-west-1"],',
      '  "lambdas": [',
      '    { "name": "team-a-orders", "version": "1.4.2" },',
      '    { "name": "team-a-reports", "version": "2.0.0", "regions": ["eu-west-1"] }',
      "  ]",
      "}",
    );
    const result = parseDefinition(text, "lambdas.json");
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    expect(result.definition.functions.map((f) => [f.name, f.regions])).to.deep.equal([
      ["team-a-orders", ["us-east-1", "eu-west-1"]],
      ["team-a-reports", ["eu-west-1"]],
    ]);
  });

  it("without regions a function has none (the Region of the run, as before)", () => {
    const result = parseDefinition('{ "lambdas": [ { "name": "a", "version": "1.0.0" } ] }', "lambdas.json");
    if (!result.ok) throw new Error("expected a definition");
    expect(result.definition.functions[0]).to.not.have.property("regions");
  });

  it("a typo'd Region is located, with did-you-mean", () => {
    const text = j(
      "{",
      '  "regions": ["us-east-1", "eu-wset-1"],',
      '  "lambdas": [ { "name": "a", "version": "1.0.0", "regions": ["mars-north-1"] } ]',
      "}",
    );
    expect(problems(text)).to.deep.equal([
      'lambdas.json:2:28: regions[1]: "eu-wset-1" is not a Region the AWS SDK knows: did you mean "eu-west-1"?',
      'lambdas.json:3:63: lambdas[0].regions[0]: "mars-north-1" is not a Region the AWS SDK knows',
    ]);
  });

  it("a name that is not a Region at all says so", () => {
    expect(problems('{ "regions": ["Ireland"], "lambdas": [] }')).to.deep.equal([
      'lambdas.json:1:15: regions[0]: "Ireland" is not a Region name (such as "eu-west-1")',
    ]);
  });

  it("a Region listed twice, an empty list and a non-array are problems", () => {
    const text = j(
      "{",
      '  "regions": ["eu-west-1", "us-east-1", "eu-west-1"],',
      '  "lambdas": [',
      '    { "name": "a", "version": "1.0.0", "regions": [] },',
      '    { "name": "b", "version": "1.0.0", "regions": "eu-west-1" }',
      "  ]",
      "}",
    );
    expect(problems(text)).to.deep.equal([
      'lambdas.json:2:41: regions[2]: Region "eu-west-1" is listed more than once',
      'lambdas.json:4:51: lambdas[0].regions: list at least one Region, or remove "regions"',
      'lambdas.json:5:51: lambdas[1].regions: expected an array of Region names such as ["eu-west-1"], found the string "eu-west-1"',
    ]);
  });
});
