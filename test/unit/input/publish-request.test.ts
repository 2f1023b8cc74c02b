import { expect } from "chai";
import { formatProblem } from "../../../reconciler/core/errors.ts";
import {
  parsePublishManifest,
  publishRequestFromFlags,
  type PublishFlags,
} from "../../../reconciler/input/publish-request.ts";

const PREFIXES = ["team-a-"];
const LAYER = "arn:aws:lambda:eu-west-1:111111111111:layer:shared:3";

function manifestProblems(text: string, file = "build/publish.json"): string[] {
  const result = parsePublishManifest(text, file, PREFIXES);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe("publish manifest (positions, did-you-mean, policy)", () => {
  it("accepts JSON and YAML lists; zip paths are relative to the manifest; --description is the default provenance", () => {
    const json = parsePublishManifest(
      JSON.stringify([
        { function: "team-a-orders", version: "1.4.2", zip: "orders.zip", runtime: "nodejs22.x", layers: [LAYER] },
        { function: "team-a-billing", version: "2.0.0-rc.1", s3: "s3://builds/billing.zip", description: "own" },
      ]),
      "build/publish.json",
      PREFIXES,
      { description: "commit abc" },
    );
    expect(json).to.deep.equal({
      ok: true,
      specs: [
        {
          function: "team-a-orders",
          version: "1.4.2",
          code: { kind: "zip", path: "build/orders.zip" },
          runtime: "nodejs22.x",
          layers: [LAYER],
          description: "commit abc",
        },
        {
          function: "team-a-billing",
          version: "2.0.0-rc.1",
          code: { kind: "s3", bucket: "builds", key: "billing.zip" },
          description: "own",
        },
      ],
    });
    const yaml = parsePublishManifest(
      "# built by CI\n- function: team-a-orders\n  version: 1.4.2\n  zip: /abs/orders.zip\n  architecture: arm64\n",
      "publish.yaml",
      PREFIXES,
    );
    expect(yaml).to.deep.equal({
      ok: true,
      specs: [
        {
          function: "team-a-orders",
          version: "1.4.2",
          code: { kind: "zip", path: "/abs/orders.zip" },
          architecture: "arm64",
        },
      ],
    });
  });

  const rows: { case: string; text: string; file?: string; expect: string[] }[] = [
    {
      case: "a misspelt key: did you mean, at the key",
      text: '[\n  {"function": "team-a-x", "version": "1.0.0", "zip": "a.zip", "runtme": "nodejs22.x"}\n]',
      expect: ['build/publish.json:2:64: [0].runtme: unknown key "runtme": did you mean "runtime"?'],
    },
    {
      case: "a bad version: the existing version checks and hints",
      text: '[{"function": "team-a-x", "version": "1.4", "zip": "a.zip"}]',
      expect: [
        'build/publish.json:1:38: [0].version: "1.4" is not a valid semantic version: use three numbers, e.g. "1.4.0"',
      ],
    },
    {
      case: "a missing key: reported at the entry",
      text: '[\n  {"function": "team-a-x", "zip": "a.zip"}\n]',
      expect: ['build/publish.json:2:3: [0]: missing required key "version"'],
    },
    {
      case: "neither zip nor s3",
      text: '[{"function": "team-a-x", "version": "1.0.0"}]',
      expect: ['build/publish.json:1:2: [0]: missing the package: give "zip" or "s3"'],
    },
    {
      case: "both zip and s3",
      text: '[{"function": "team-a-x", "version": "1.0.0", "zip": "a", "s3": "s3://bkt/k"}]',
      expect: ['build/publish.json:1:2: [0]: give either "zip" or "s3", not both'],
    },
    {
      case: "a malformed S3 URL and a bad architecture",
      text: "- function: team-a-x\n  version: 1.0.0\n  s3: https://bkt/k\n  architecture: arm\n",
      file: "publish.yml",
      expect: [
        'publish.yml:3:7: [0].s3: expected "s3://BUCKET/KEY" (a bucket in the same Region as the function)',
        'publish.yml:4:17: [0].architecture: expected "x86_64" or "arm64"',
      ],
    },
    {
      case: "a layer that is not a layer version ARN",
      text: '[{"function": "team-a-x", "version": "1.0.0", "zip": "a", "layers": ["arn:aws:lambda:eu-west-1:111111111111:layer:shared"]}]',
      expect: [
        "build/publish.json:1:70: [0].layers[0]: expected a layer version ARN: arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION",
      ],
    },
    {
      case: "outside the allowed prefixes: refused, together with the other problems",
      text: '[\n  {"function": "team-b-x", "version": "1.0.0", "zip": "a"},\n  {"function": "team-a-y", "version": "x", "zip": "a"}\n]',
      expect: [
        'build/publish.json:2:16: [0].function: function "team-b-x" is outside the allowed prefixes ("team-a-"): the reconciler may not touch it',
        'build/publish.json:3:39: [1].version: "x" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")',
      ],
    },
    {
      case: "a function listed twice",
      text: '[\n {"function": "team-a-x", "version": "1.0.0", "zip": "a"},\n {"function": "team-a-x", "version": "1.0.1", "zip": "b"}\n]',
      expect: ['build/publish.json:3:15: [1].function: function "team-a-x" is listed more than once (first at line 2)'],
    },
    {
      case: "an ARN instead of a function name",
      text: '[{"function": "arn:aws:lambda:eu-west-1:111111111111:function:team-a-x", "version": "1.0.0", "zip": "a"}]',
      expect: [
        'build/publish.json:1:15: [0].function: "arn:aws:lambda:eu-west-1:111111111111:function:team-a-x" is an ARN: use the plain function name ("team-a-x")',
      ],
    },
    {
      case: "strict JSON: a trailing comma, at its position",
      text: '[{"function": "team-a-x", "version": "1.0.0", "zip": "a"},\n]',
      expect: ['build/publish.json:1:58: invalid JSON: trailing comma before "]"'],
    },
    {
      case: "not a list",
      text: '{"function": "team-a-x"}',
      expect: ["build/publish.json:1:1: expected a list of functions to publish"],
    },
    {
      case: "an empty list",
      text: "[]",
      expect: ["build/publish.json:1:1: the manifest lists no functions"],
    },
    {
      case: "a duplicate key in YAML",
      text: "- function: team-a-x\n  version: 1.0.0\n  version: 1.0.1\n  zip: a\n",
      file: "p.yaml",
      expect: ['p.yaml:3:3: [0]: duplicate key "version" (first at line 2)'],
    },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(manifestProblems(row.text, row.file)).to.deep.equal(row.expect);
    });
  }
});

describe("publish flags", () => {
  const lines = (flags: PublishFlags) => {
    const result = publishRequestFromFlags(flags, PREFIXES);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it("builds one spec; --layer none removes every layer", () => {
    expect(
      publishRequestFromFlags(
        { function: "team-a-x", version: "1.0.0", zip: "a.zip", layers: ["none"], description: "c1" },
        PREFIXES,
      ),
    ).to.deep.equal({
      ok: true,
      specs: [
        { function: "team-a-x", version: "1.0.0", code: { kind: "zip", path: "a.zip" }, layers: [], description: "c1" },
      ],
    });
  });

  const rows: { case: string; flags: PublishFlags; expect: string[] }[] = [
    { case: "nothing given", flags: {}, expect: ["--function: is required", "--version: is required", "--zip/--s3: missing the package: give \"zip\" or \"s3\""] },
    {
      case: "outside the prefixes (and nothing else wrong)",
      flags: { function: "team-b-x", version: "1.0.0", zip: "a" },
      expect: ['--function: function "team-b-x" is outside the allowed prefixes ("team-a-"): the reconciler may not touch it'],
    },
    {
      case: "outside the prefixes is reported even with other problems",
      flags: { function: "team-b-x", version: "v1", zip: "a" },
      expect: [
        '--function: function "team-b-x" is outside the allowed prefixes ("team-a-"): the reconciler may not touch it',
        '--version: "v1" is not a valid semantic version (expected MAJOR.MINOR.PATCH, e.g. "1.4.2")',
      ],
    },
    {
      case: "a description over 256 characters",
      flags: { function: "team-a-x", version: "1.0.0", zip: "a", description: "x".repeat(257) },
      expect: ["--description: Too big: expected string to have <=256 characters"],
    },
  ];
  for (const row of rows) {
    it(row.case, () => {
      expect(lines(row.flags)).to.deep.equal(row.expect);
    });
  }
});
