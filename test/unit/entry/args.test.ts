import { expect } from "chai";
import { type FlagSpec, listFlag, numberFlag, parseCommandArgs } from "../../../reconciler/entry/args.ts";
import { chooseDefinitionFile } from "../../../reconciler/entry/definition-file.ts";
import { parametersFromFlags } from "../../../reconciler/entry/settings.ts";
import { colorEnabled, paint } from "../../../reconciler/entry/terminal.ts";
import { textLine } from "../../../reconciler/core/log.ts";

const FLAGS: FlagSpec[] = [
  { name: "allowed-prefix", type: "string", multiple: true, value: "P", help: "" },
  { name: "concurrency", type: "string", value: "N", help: "" },
  { name: "format", type: "string", value: "FMT", help: "" },
  { name: "detailed-exitcode", type: "boolean", help: "" },
  { name: "help", type: "boolean", short: "h", help: "" },
];

describe("CLI argument parsing", () => {
  const usage = (argv: string[]) => {
    const parsed = parseCommandArgs("plan", argv, FLAGS);
    return parsed.ok ? "ok" : parsed.message;
  };

  const cases: [string[], string][] = [
    [["--concurency", "3"], "unknown flag --concurency: did you mean --concurrency?"],
    [["--allowed-prefixes", "a-"], "unknown flag --allowed-prefixes: did you mean --allowed-prefix?"],
    [["--concurency=3"], "unknown flag --concurency: did you mean --concurrency?"],
    [["--zzz"], "unknown flag --zzz"],
    [["-x"], "unknown flag -x"],
    [["--format"], "--format needs a value: --format FMT"],
    [["--format", "--json"], '--format needs a value, found the flag-like "--json" (write --format=--json if you mean it)'],
    [["--detailed-exitcode=1"], '--detailed-exitcode takes no value (found "1")'],
    [["lambdas.json", "--format", "json", "-h"], "ok"],
    [["--format=json"], "ok"],
  ];
  for (const [argv, expected] of cases) {
    it(`${argv.join(" ")} -> ${expected}`, () => expect(usage(argv)).to.equal(expected));
  }

  it("never lets parseArgs' own words through", () => {
    for (const [argv] of cases) expect(usage(argv)).not.to.match(/TypeError|ERR_PARSE_ARGS|Unknown option/);
  });

  it("splits repeated and comma-separated prefixes alike", () => {
    const parsed = parseCommandArgs("plan", ["--allowed-prefix", "team-a-,team-b-", "--allowed-prefix", "team-c-"], FLAGS);
    expect(parsed.ok && listFlag(parsed.values, "allowed-prefix")).to.deep.equal(["team-a-", "team-b-", "team-c-"]);
  });

  const numbers: [string, "whole" | "decimal", number | string][] = [
    ["4", "whole", 4],
    ["abc", "whole", 'wants a whole number, e.g. 4 (found "abc")'],
    ["2.5", "whole", 'wants a whole number, e.g. 4 (found "2.5")'],
    ["", "whole", 'wants a whole number, e.g. 4 (found "")'],
    ["2.5", "decimal", 2.5],
    ["1e3", "decimal", 'wants a number, e.g. 10 or 2.5 (found "1e3")'],
  ];
  for (const [raw, kind, expected] of numbers) {
    it(`${kind} number "${raw}" -> ${expected}`, () => {
      const parsed = numberFlag({ n: raw }, "n", kind);
      expect(parsed.ok ? parsed.value : parsed.message).to.equal(expected);
    });
  }

  it("names every settings problem by its flag, number and schema problems together", () => {
    const result = parametersFromFlags(
      { "allowed-prefix": ["team-a-,"], concurrency: "abc", "control-rate": "20" },
      {},
    );
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).to.deep.equal(["--concurrency", "--allowed-prefix", "--control-rate"]);
  });

  it("takes the Region from --region, then AWS_REGION, then AWS_DEFAULT_REGION", () => {
    const region = (values: Record<string, string>, env: Record<string, string>) => {
      const r = parametersFromFlags({ "allowed-prefix": ["a-"], ...values }, env);
      return r.ok ? r.parameters.region : "invalid";
    };
    expect(region({ region: "eu-west-1" }, { AWS_REGION: "us-east-1" })).to.equal("eu-west-1");
    expect(region({}, { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "eu-west-2" })).to.equal("us-east-1");
    expect(region({}, { AWS_DEFAULT_REGION: "eu-west-2" })).to.equal("eu-west-2");
    expect(region({}, {})).to.equal(undefined);
  });
});

describe("the default definition file", () => {
  const cases: [string[], string][] = [
    [["lambdas.json"], "lambdas.json"],
    [["lambdas.yaml"], "lambdas.yaml"],
    [["lambdas.yml", "other.json"], "lambdas.yml"],
    [[], "no definition file here: expected one of lambdas.json, lambdas.yaml, lambdas.yml"],
    [["lambdas.json", "lambdas.yaml"], "lambdas.json and lambdas.yaml both exist here"],
    [["lambdas.yaml", "lambdas.yml", "lambdas.json"], "lambdas.json and lambdas.yaml and lambdas.yml both exist"],
  ];
  it("names the command that was run (validate says validate, not plan)", () => {
    const none = chooseDefinitionFile([], "validate");
    expect(none.ok ? "" : none.message).to.include("(or name it: lambda-gitops validate FILE)");
    const two = chooseDefinitionFile(["lambdas.json", "lambdas.yml"], "status");
    expect(two.ok ? "" : two.message).to.include("e.g. lambda-gitops status lambdas.json");
  });
  for (const [existing, expected] of cases) {
    it(`[${existing.join(", ")}] -> ${expected}`, () => {
      const chosen = chooseDefinitionFile(existing, "validate");
      if (chosen.ok) expect(chosen.file).to.equal(expected);
      else expect(chosen.message).to.include(expected);
    });
  }
});

describe("terminal colour", () => {
  const cases: [Record<string, string>, boolean, boolean][] = [
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: "1" }, true, false],
    [{ NO_COLOR: "" }, true, true],
    [{ TERM: "dumb" }, true, false],
    [{ FORCE_COLOR: "1" }, false, true],
    [{ FORCE_COLOR: "0" }, true, true],
    // force-color.org: present and not empty, whatever the value, forces colour; empty is unset.
    [{ FORCE_COLOR: "0" }, false, true],
    [{ FORCE_COLOR: "" }, false, false],
    [{ FORCE_COLOR: "", TERM: "dumb" }, true, false],
    [{ FORCE_COLOR: "1", NO_COLOR: "1" }, true, false],
  ];
  for (const [env, tty, expected] of cases) {
    it(`${JSON.stringify(env)} on ${tty ? "a terminal" : "a pipe"} -> ${expected ? "colour" : "none"}`, () => {
      expect(colorEnabled(env, tty)).to.equal(expected);
      expect(paint(colorEnabled(env, tty)).red("x").includes("\u001b[")).to.equal(expected);
    });
  }
});

describe("text log lines", () => {
  it("lead with time, level and function, then the fields", () => {
    expect(
      textLine("2026-11-30T12:00:01.000Z", "warn", "retrying", {
        function: "team-a-orders",
        step: "UpdateAlias",
        attempt: 2,
        error: "Too Many",
        skipped: undefined,
      }),
    ).to.equal('12:00:01 WARN  team-a-orders: retrying step=UpdateAlias attempt=2 error="Too Many"');
  });
});
