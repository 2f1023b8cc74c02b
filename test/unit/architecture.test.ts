/**
 * The layout's rules, checked on every file of reconciler/ (README "Layout"):
 * - only reconciler/aws/ imports the AWS SDK (`@aws-sdk/*`, `@smithy/*`);
 * - input/, plan/ and report/ do no I/O: no node:fs, node:net, node:http(s), nothing from aws/.
 *   For now `import type` from aws/ is allowed there (plan/plan.ts takes AliasState/FunctionState
 *   from aws/lambda.ts until those types move out of the adapter).
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Every static, re-exporting, side-effect and dynamic import of a TypeScript source. */
export function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const statement = /(?:^|[\n;])\s*(import|export)\s+(type\s+)?(?:[^;"'`]*?\sfrom\s+)?["']([^"']+)["']/g;
  for (const m of source.matchAll(statement)) found.push({ specifier: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    found.push({ specifier: m[1]!, typeOnly: false });
  }
  return found;
}

const NO_IO_STAGES = ["input", "plan", "report"];
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2)$/;

/** The rule violations of one file (`file` relative to the repository, POSIX separators). */
export function violations(file: string, imports: readonly Import[]): string[] {
  const stage = file.split("/")[1] ?? "";
  const problems: string[] = [];
  for (const { specifier } of imports) {
    if (stage !== "aws" && /^@(aws-sdk|smithy)\//.test(specifier)) {
      problems.push(`${file}: imports ${specifier}; only reconciler/aws/ may import the AWS SDK`);
    }
    if (!NO_IO_STAGES.includes(stage)) continue;
    if (IO_MODULES.test(specifier)) {
      problems.push(`${file}: imports ${specifier}; reconciler/${stage}/ does no I/O`);
    }
    const target = specifier.startsWith(".") ? posix.join(posix.dirname(file), specifier) : specifier;
    if (target.startsWith("reconciler/aws/")) {
      problems.push(`${file}: imports ${specifier}; reconciler/${stage}/ may not use the AWS adapters`);
    }
  }
  return problems;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}

describe("architecture", () => {
  describe("the rules themselves", () => {
    it("finds every kind of import, and which are type-only", () => {
      const source = [
        'import { a } from "./a.ts";',
        "import {",
        "  b,",
        "  type c,",
        '} from "@aws-sdk/client-lambda";',
        'import type { D } from "../aws/lambda.ts";',
        'import "node:fs";',
        'export { e } from "./e.ts";',
        'export type { F } from "./f.ts";',
        'const g = await import("node:http");',
        'const text = "import nothing from here";',
      ].join("\n");
      expect(importsOf(source)).to.deep.equal([
        { specifier: "./a.ts", typeOnly: false },
        { specifier: "@aws-sdk/client-lambda", typeOnly: false },
        { specifier: "../aws/lambda.ts", typeOnly: true },
        { specifier: "node:fs", typeOnly: false },
        { specifier: "./e.ts", typeOnly: false },
        { specifier: "./f.ts", typeOnly: true },
        { specifier: "node:http", typeOnly: false },
      ]);
    });

    const cases: { file: string; specifier: string; typeOnly?: boolean; broken: boolean }[] = [
      { file: "reconciler/aws/lambda.ts", specifier: "@aws-sdk/client-lambda", broken: false },
      { file: "reconciler/aws/wait.ts", specifier: "@smithy/util-waiter", broken: false },
      { file: "reconciler/entry/pr-plan.ts", specifier: "@aws-sdk/client-codecommit", broken: true },
      { file: "reconciler/apply/apply.ts", specifier: "@smithy/util-waiter", broken: true },
      { file: "reconciler/core/log.ts", specifier: "@aws-sdk/client-sts", typeOnly: true, broken: true },
      { file: "reconciler/input/definitions.ts", specifier: "node:fs", broken: true },
      { file: "reconciler/input/artifact.ts", specifier: "fs/promises", broken: true },
      { file: "reconciler/plan/plan.ts", specifier: "node:https", broken: true },
      { file: "reconciler/report/report.ts", specifier: "node:net", broken: true },
      { file: "reconciler/input/artifact.ts", specifier: "node:zlib", broken: false },
      { file: "reconciler/plan/plan.ts", specifier: "../aws/lambda.ts", broken: true },
      { file: "reconciler/plan/plan.ts", specifier: "../aws/lambda.ts", typeOnly: true, broken: true },
      { file: "reconciler/report/report.ts", specifier: "../aws/retry.ts", broken: true },
      { file: "reconciler/input/x/deep.ts", specifier: "../../aws/s3.ts", broken: true },
      { file: "reconciler/apply/apply.ts", specifier: "../aws/lambda.ts", broken: false },
      { file: "reconciler/entry/cli.ts", specifier: "node:fs/promises", broken: false },
    ];
    for (const { file, specifier, typeOnly = false, broken } of cases) {
      it(`${file} importing ${typeOnly ? "type from " : ""}${specifier}: ${broken ? "refused" : "allowed"}`, () => {
        expect(violations(file, [{ specifier, typeOnly }])).to.have.length(broken ? 1 : 0);
      });
    }
  });

  it("reconciler/ keeps the rules", () => {
    const files = sourcesUnder("reconciler");
    expect(files).to.include.members(["reconciler/aws/lambda.ts", "reconciler/entry/pr-plan.ts"]);
    const broken = files.flatMap((file) => violations(file, importsOf(readFileSync(join(ROOT, file), "utf8"))));
    expect(broken).to.deep.equal([]);
  });
});
