/**
 * `runPublish` on bad input: every problem is reported and no AWS client is even created (the
 * injected `createAws` fails the test if it is called), so nothing can be read or written.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runPublish } from "../../../reconciler/entry/commands/publish.ts";
import type { CliIo } from "../../../reconciler/entry/cli.ts";

describe("publish command: bad input never reaches AWS", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "lambda-gitops-publish-unit-"));
    await writeFile(join(dir, "a.zip"), new Uint8Array([80, 75, 5, 6]));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function run(...argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
    let stderr = "";
    let stdout = "";
    const io: CliIo = {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { AWS_REGION: "eu-west-1" },
      createAws: () => {
        throw new Error("an AWS context was created for invalid input");
      },
    };
    const code = await runPublish(argv, io);
    return { code, stderr, stdout };
  }

  const rows: { case: string; argv: string[]; stderr: string[] }[] = [
    {
      case: "no allowed prefix",
      argv: ["--function", "team-a-x", "--version", "1.0.0", "--zip", "a.zip"],
      stderr: ["command line: --allowed-prefix:"],
    },
    {
      case: "a function outside the prefixes",
      argv: ["--function", "team-b-x", "--version", "1.0.0", "--zip", "a.zip", "--allowed-prefix", "team-a-"],
      stderr: ['command line: --function: function "team-b-x" is outside the allowed prefixes'],
    },
    {
      case: "--manifest together with single-function flags",
      argv: ["--manifest", "m.json", "--function", "team-a-x", "--allowed-prefix", "team-a-"],
      stderr: ["command line: --manifest: cannot be combined with --function"],
    },
    {
      case: "a missing manifest",
      argv: ["--manifest", "missing.json", "--allowed-prefix", "team-a-"],
      stderr: ["command line: --manifest: ", "missing.json: no such file"],
    },
    {
      case: "a missing zip (checked before any AWS call too)",
      argv: ["--function", "team-a-x", "--version", "1.0.0", "--zip", "nope.zip", "--allowed-prefix", "team-a-"],
      stderr: ["team-a-x: ", "nope.zip: no such file", "nothing was changed"],
    },
    {
      case: "an unknown format",
      argv: ["--function", "team-a-x", "--version", "1.0.0", "--zip", "a.zip", "--allowed-prefix", "team-a-", "--format", "xml"],
      stderr: ["lambda-gitops publish: publish has no --format xml: it prints table, json", "Run 'lambda-gitops publish --help' for usage."],
    },
    {
      case: "a misspelt flag: did-you-mean, as every command",
      argv: ["--functon", "team-a-x", "--allowed-prefix", "team-a-"],
      stderr: ["lambda-gitops publish: unknown flag --functon: did you mean --function?"],
    },
    {
      case: "a positional argument",
      argv: ["team-a-x", "--allowed-prefix", "team-a-"],
      stderr: ['lambda-gitops publish: unexpected argument "team-a-x" (publish takes none)'],
    },
    {
      case: "a flag without its value, in our words",
      argv: ["--allowed-prefix", "team-a-", "--version"],
      stderr: ["--version needs a value: --version X.Y.Z"],
    },
  ];
  for (const row of rows) {
    it(row.case, async () => {
      // File arguments are relative to the test's own folder.
      const argv = row.argv.map((arg) => (/\.(zip|json)$/.test(arg) ? join(dir, arg) : arg));
      const result = await run(...argv);
      expect(result.code).to.equal(1);
      for (const text of row.stderr) expect(result.stderr).to.include(text);
      expect(result.stdout).to.equal("");
    });
  }

  it("--help prints the usage and exits 0", async () => {
    const result = await run("--help");
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include("lambda-gitops publish --manifest FILE");
  });
});
