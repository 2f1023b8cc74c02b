import { expect } from "chai";
import { type ParseResult, parseDefinition } from "../../../reconciler/input/definitions.ts";
import { formatProblem } from "../../../reconciler/core/errors.ts";

const j = (...lines: string[]) => lines.join("\n");
const rendered = (result: ParseResult): string[] => (result.ok ? [] : result.problems.map(formatProblem));

describe("definition: group (release sets)", () => {
  it("reads the group of each member; members may declare different versions; a group of one is allowed", () => {
    const result = parseDefinition(
      j(
        '{ "lambdas": [',
        '  { "name": "team-a-orders-api", "version": "2.0.0", "group": "orders" },',
        '  { "name": "team-a-orders-worker", "version": "1.5.0", "group": "orders" },',
        '  { "name": "team-a-solo", "version": "1.0.0", "group": "solo_1" },',
        '  { "name": "team-a-reports", "version": "1.3.0" } ] }',
      ),
      "lambdas.json",
    );
    expect(rendered(result)).to.deep.equal([]);
    if (!result.ok) return;
    expect(result.definition.functions.map((f) => [f.name, f.version, f.group])).to.deep.equal([
      ["team-a-orders-api", "2.0.0", "orders"],
      ["team-a-orders-worker", "1.5.0", "orders"],
      ["team-a-solo", "1.0.0", "solo_1"],
      ["team-a-reports", "1.3.0", undefined],
    ]);
  });

  const cases: { name: string; text: string; problems: string[] }[] = [
    {
      name: "members with different rollouts: located at the later member's group",
      text: j(
        '{ "lambdas": [',
        '  { "name": "team-a-api", "version": "2.0.0", "group": "orders", "rollout": { "steps": [10], "interval": "5m" } },',
        '  { "name": "team-a-worker", "version": "2.0.0", "group": "orders" } ] }',
      ),
      problems: [
        'lambdas.json:3:59: lambdas[1].group: function "team-a-worker" in group "orders" has no rollout (all at once), but "team-a-api" (line 2) has a rollout of 10% -> 100%: the members of a group move on one schedule, so they must declare the same rollout',
      ],
    },
    {
      name: "a group name that is not an alias name",
      text: j('{ "lambdas": [', '  { "name": "team-a-api", "version": "2.0.0", "group": "or ders" } ] }'),
      problems: [
        'lambdas.json:2:56: lambdas[0].group: "or ders" is not a group name: use 1-128 letters A-Z and a-z, digits, "-" and "_" (not only digits), as in an alias name',
      ],
    },
    {
      name: "a group name of digits only",
      text: j('{ "lambdas": [', '  { "name": "team-a-api", "version": "2.0.0", "group": "123" } ] }'),
      problems: [
        'lambdas.json:2:56: lambdas[0].group: "123" is not a group name: use 1-128 letters A-Z and a-z, digits, "-" and "_" (not only digits), as in an alias name',
      ],
    },
    {
      name: "a group that is not a string",
      text: j('{ "lambdas": [', '  { "name": "team-a-api", "version": "2.0.0", "group": 7 } ] }'),
      problems: ['lambdas.json:2:56: lambdas[0].group: expected a group name such as "orders", found the number 7'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(rendered(parseDefinition(c.text, "lambdas.json"))).to.deep.equal(c.problems);
    });
  }

  it("members sharing the file's default rollout are one schedule", () => {
    const result = parseDefinition(
      j(
        '{ "rollout": { "steps": [10, 50], "interval": "5m" }, "lambdas": [',
        '  { "name": "team-a-api", "version": "2.0.0", "group": "orders" },',
        '  { "name": "team-a-worker", "version": "2.0.0", "group": "orders", "rollout": { "steps": [10, 50], "interval": "5m" } } ] }',
      ),
      "lambdas.json",
    );
    expect(rendered(result)).to.deep.equal([]);
  });
});
