import { expect } from "chai";
import { loadDesired } from "../../../reconciler/input/desired.ts";
import { formatProblem } from "../../../reconciler/core/errors.ts";
import { parseUserParameters, validateParameters } from "../../../reconciler/input/parameters.ts";
import { checkPolicy, isAllowed } from "../../../reconciler/input/policy.ts";
import { spec } from "../../support/fixtures.ts";

const lines = (text: string | undefined) => {
  const result = parseUserParameters(text);
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe("job parameters (UserParameters)", () => {
  it("accepts the documented example and fills defaults", () => {
    const result = parseUserParameters(
      '{"allowedPrefixes":["team-a-"],"sourceRoleArn":"arn:aws:iam::111111111111:role/x","externalId":"ext-1","concurrency":8}',
    );
    expect(result).to.deep.equal({
      ok: true,
      parameters: {
        allowedPrefixes: ["team-a-"],
        sourceRoleArn: "arn:aws:iam::111111111111:role/x",
        externalId: "ext-1",
        liveAlias: "LIVE",
        definitionFile: "lambdas.json",
        concurrency: 8,
        maxRounds: 10,
      },
    });
  });

  const rows: { case: string; text: string | undefined; expect: string[] }[] = [
    {
      case: "missing",
      text: undefined,
      expect: [
        'UserParameters:1:1: UserParameters is empty: it must be a JSON object with at least "allowedPrefixes"',
      ],
    },
    {
      case: "blank",
      text: "  ",
      expect: [
        'UserParameters:1:1: UserParameters is empty: it must be a JSON object with at least "allowedPrefixes"',
      ],
    },
    {
      case: "over 1000 characters",
      text: JSON.stringify({ allowedPrefixes: ["a".repeat(990)] }),
      expect: ["UserParameters:1:1: UserParameters is 1014 characters; CodePipeline allows at most 1000"],
    },
    {
      case: "not JSON (unquoted value)",
      text: '{"allowedPrefixes": [team-a-]}',
      expect: [
        "UserParameters:1:22: invalid JSON: expected a value, found team-a- (text must be in double quotes)",
      ],
    },
    {
      case: "duplicate key (a reviewer would read one list, the reconciler enforce another)",
      text: '{"allowedPrefixes":["team-a-"],"allowedPrefixes":["x"]}',
      expect: ["UserParameters:1:32: duplicate key: each setting may appear once"],
    },
    {
      case: "prefixes missing",
      text: '{"liveAlias":"LIVE"}',
      expect: ["UserParameters:1:1: allowedPrefixes: is required"],
    },
    {
      case: "empty prefix list",
      text: '{"allowedPrefixes":[]}',
      expect: [
        "UserParameters:1:20: allowedPrefixes: at least one prefix is required: the reconciler refuses to touch functions outside the allowlist",
      ],
    },
    {
      case: "empty-string prefix (would allow everything)",
      text: '{"allowedPrefixes":["team-a-",""]}',
      expect: [
        "UserParameters:1:31: allowedPrefixes[1]: a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
      ],
    },
    {
      case: "prefix without a trailing separator ('team-a' would also match 'team-admin')",
      text: '{"allowedPrefixes":["team-a"]}',
      expect: [
        "UserParameters:1:21: allowedPrefixes[0]: a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
      ],
    },
    {
      case: "a separator alone ('-' would match every hyphenated name)",
      text: '{"allowedPrefixes":["-"]}',
      expect: [
        "UserParameters:1:21: allowedPrefixes[0]: a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
      ],
    },
    {
      case: "wildcard prefix",
      text: '{"allowedPrefixes":["*"]}',
      expect: [
        "UserParameters:1:21: allowedPrefixes[0]: a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
      ],
    },
    {
      case: "wrong type",
      text: '{"allowedPrefixes":"team-a-","concurrency":"8"}',
      expect: [
        "UserParameters:1:20: allowedPrefixes: Invalid input: expected array, received string",
        "UserParameters:1:44: concurrency: Invalid input: expected number, received string",
      ],
    },
    {
      case: "unknown key with a suggestion",
      text: '{"allowedPrefixes":["team-a-"],"liveAlais":"LIVE"}',
      expect: ['UserParameters:1:32: liveAlais: unknown setting "liveAlais": did you mean "liveAlias"?'],
    },
    {
      case: "malformed role ARN",
      text: '{"allowedPrefixes":["team-a-"],"sourceRoleArn":"arn:aws:iam::1111:user/x"}',
      expect: [
        "UserParameters:1:48: sourceRoleArn: expected an IAM role ARN: arn:aws:iam::123456789012:role/name",
      ],
    },
    {
      case: "LIVE alias that looks like a version alias",
      text: '{"allowedPrefixes":["team-a-"],"liveAlias":"1-2-3"}',
      expect: [
        'UserParameters:1:44: liveAlias: the LIVE alias must not look like a version alias (e.g. "1-2-3"): the two would collide',
      ],
    },
    {
      case: "definition file escaping the artifact",
      text: '{"allowedPrefixes":["team-a-"],"definitionFile":"../etc/passwd"}',
      expect: [
        "UserParameters:1:49: definitionFile: must be a relative path inside the source artifact (no leading '/', no '..', no '\\')",
      ],
    },
    {
      case: "problems on several lines are all reported",
      text: '{\n  "allowedPrefixes": [""],\n  "concurrency": 0\n}',
      expect: [
        "UserParameters:2:23: allowedPrefixes[0]: a prefix is 2-63 characters of letters, digits, '-' or '_' and ends with '-' or '_' (\"team-a\" would also match \"team-admin\"; an empty prefix would allow every function)",
        "UserParameters:3:18: concurrency: Too small: expected number to be >=1",
      ],
    },
  ];
  for (const row of rows) {
    it(`rejects: ${row.case}`, () => {
      expect(lines(row.text)).to.deep.equal(row.expect);
    });
  }

  it("validates CLI flags with the same schema", () => {
    const result = validateParameters({ allowedPrefixes: [], liveAlias: undefined }, "command line");
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.problems[0]?.path).to.equal("allowedPrefixes");
  });
});

describe("prefix policy", () => {
  it("is exact and case-sensitive", () => {
    expect(isAllowed("team-a-orders", ["team-a-"])).to.equal(true);
    expect(isAllowed("TEAM-A-orders", ["team-a-"])).to.equal(false);
    expect(isAllowed("team-b-orders", ["team-a-"])).to.equal(false);
    expect(isAllowed("team-a-orders", [""])).to.equal(false);
    expect(isAllowed("team-a-orders", [])).to.equal(false);
  });

  it("names every refused function, where it is, and the allowed prefixes", () => {
    const problems = checkPolicy(
      {
        file: "lambdas.json",
        functions: [
          spec("team-a-ok", "1.0.0"),
          { ...spec("team-b-x", "1.0.0"), index: 1, at: { line: 4, column: 15 } },
        ],
      },
      ["team-a-", "shared-"],
    );
    expect(problems.map(formatProblem)).to.deep.equal([
      'lambdas.json:4:15: lambdas[1].name: function "team-b-x" is outside the allowed prefixes ("team-a-", "shared-"): the reconciler may not touch it',
    ]);
  });

  it("reports refused functions together with the file's other problems, not one fix later", () => {
    const text = [
      "{",
      '  "lambdas": [',
      '    { "name": "team-a-x", "version": "v1.0.0" },',
      '    { "name": "other-team-y", "version": "1.0.0" }',
      "  ]",
      "}",
    ].join("\n");
    const result = loadDesired(text, "lambdas.json", ["team-a-"]);
    expect(result.ok).to.equal(false);
    if (!result.ok) {
      expect(result.problems.map(formatProblem)).to.deep.equal([
        'lambdas.json:3:38: lambdas[0].version: "v1.0.0" is not a valid semantic version: drop the leading "v" (use "1.0.0")',
        'lambdas.json:4:15: lambdas[1].name: function "other-team-y" is outside the allowed prefixes ("team-a-"): the reconciler may not touch it',
      ]);
    }
  });
});
