/**
 * The layout's rules, checked on every file of reconciler/ (README "Layout"):
 * - only reconciler/aws/ imports the AWS SDK (`@aws-sdk/*`, `@smithy/*`);
 * - input/, plan/ and report/ do no I/O: no node:fs, node:net, node:http(s), nothing from aws/
 *   (not even a type: their values come from observe/);
 * - the stage order entry > report > apply > plan > observe > aws > input > core: a module imports
 *   only modules of its own stage or lower ones. A type-only import of a port (an interface the
 *   adapter implements, declared by the stage that consumes it) is the one exception, listed in
 *   PORT_IMPORTS;
 * - no import cycles among reconciler/'s modules (type-only imports included);
 * - the read-only entry points (the pull-request planner, the drift check, `plan`, `status`,
 *   `validate`) never load a module of apply/, directly or through another module.
 * What breaks a rule today, pending work, is in KNOWN_VIOLATIONS; the test fails for any violation
 * not listed there and for any listed one that no longer exists, so the list only shrinks.
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

/** Lowest first: a module may import its own stage and the ones before it. */
export const STAGES = ["core", "input", "aws", "observe", "plan", "apply", "report", "entry"] as const;

/** The stage of `reconciler/<stage>/...` (undefined outside reconciler/ or in an unknown folder). */
function stageOf(file: string): number | undefined {
  const [root, stage] = file.split("/");
  const index = STAGES.indexOf(stage as (typeof STAGES)[number]);
  return root === "reconciler" && index >= 0 ? index : undefined;
}

/** The SDK and no-I/O rules for one file (`file` relative to the repository, POSIX separators). */
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

/** file -> the files it imports (relative specifiers only), and whether every such import is type-only. */
export type Graph = ReadonlyMap<string, ReadonlyMap<string, { typeOnly: boolean }>>;

export function graphOf(sources: ReadonlyMap<string, string>): Graph {
  const graph = new Map<string, Map<string, { typeOnly: boolean }>>();
  for (const [file, source] of sources) {
    const edges = new Map<string, { typeOnly: boolean }>();
    for (const { specifier, typeOnly } of importsOf(source)) {
      if (!specifier.startsWith(".")) continue;
      const target = posix.join(posix.dirname(file), specifier);
      edges.set(target, { typeOnly: typeOnly && (edges.get(target)?.typeOnly ?? true) });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** `stage: FROM -> TO` for every import of a higher stage (`(type)` when type-only), ports excepted. */
export function stageViolations(graph: Graph, ports: readonly string[]): string[] {
  const found: string[] = [];
  for (const [file, edges] of graph) {
    const from = stageOf(file);
    if (from === undefined) continue;
    for (const [target, { typeOnly }] of edges) {
      const to = stageOf(target);
      if (to === undefined || to <= from) continue;
      const edge = `${file} -> ${target}`;
      if (typeOnly && ports.includes(edge)) continue;
      found.push(`stage: ${edge}${typeOnly ? " (type)" : ""}`);
    }
  }
  return found.sort();
}

/** `cycle: A <-> B <-> ...` for every strongly connected set of two or more files (Tarjan). */
export function cycles(graph: Graph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file)?.keys() ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== file);
    if (members.length > 1) found.push(`cycle: ${members.sort().join(" <-> ")}`);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return found.sort();
}

/**
 * `read-only: ENTRY reaches apply/ via A -> B -> ...`: the shortest chain of value imports (type-only
 * ones load nothing) from a read-only entry point to a module of apply/.
 */
export function readOnlyViolations(graph: Graph, entries: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of entries) {
    const previous = new Map<string, string | null>([[entry, null]]);
    const queue = [entry];
    let reached: string | undefined;
    while (queue.length > 0 && reached === undefined) {
      const file = queue.shift()!;
      for (const [target, { typeOnly }] of [...(graph.get(file) ?? [])].sort(([a], [b]) => a.localeCompare(b))) {
        if (typeOnly || previous.has(target)) continue;
        previous.set(target, file);
        if (target.startsWith("reconciler/apply/")) {
          reached = target;
          break;
        }
        queue.push(target);
      }
    }
    if (reached === undefined) continue;
    const chain: string[] = [];
    for (let at: string | null | undefined = reached; at; at = previous.get(at)) chain.unshift(at);
    found.push(`read-only: ${entry} reaches apply/ via ${chain.join(" -> ")}`);
  }
  return found.sort();
}

/**
 * Type-only imports of ports: an adapter in aws/ implements an interface (or returns a domain type)
 * declared by the stage that consumes it. Each entry must exist, as a type-only import.
 */
export const PORT_IMPORTS: readonly string[] = [
  // PreflightProbe, CallerIdentity: the STS probe behind the preflight.
  "reconciler/aws/preflight.ts -> reconciler/observe/preflight.ts",
  // Stager: the S3 staging of packages too large for a direct upload.
  "reconciler/aws/s3.ts -> reconciler/apply/execution.ts",
  // FunctionState: what the update waiter polls.
  "reconciler/aws/wait.ts -> reconciler/observe/state.ts",
  // EventSourceMappingSummary: what the invokers listing (pruning) returns.
  "reconciler/aws/lambda-invokers.ts -> reconciler/observe/state.ts",
];

export const READ_ONLY_ENTRIES: readonly string[] = [
  "reconciler/entry/pr-plan.ts",
  "reconciler/entry/drift.ts",
  "reconciler/entry/commands/plan.ts",
  "reconciler/entry/commands/status.ts",
  "reconciler/entry/commands/validate.ts",
];

/**
 * Violations that exist today, each with the work that removes it. The test fails when a
 * violation is missing from this list AND when a listed one is gone, so the list can only shrink.
 */
export const KNOWN_VIOLATIONS: readonly string[] = [
  // AlarmState and RolloutContext (alarm states, the time to plan at) are observations declared
  // in plan/; they belong in observe/ with the rest of what a run reads.
  "stage: reconciler/aws/cloudwatch.ts -> reconciler/plan/rollout.ts (type)",
  "stage: reconciler/observe/context.ts -> reconciler/plan/rollout-plan.ts (type)",
  "stage: reconciler/observe/context.ts -> reconciler/plan/rollout.ts (type)",
  // The Lambda adapter takes isPublishedVersion (a value) from observe/state.ts: the published-
  // version pattern needs a home at or below aws/.
  "stage: reconciler/aws/lambda.ts -> reconciler/observe/state.ts",
];

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

    const graph = (files: Record<string, string[]>) =>
      graphOf(new Map(Object.entries(files).map(([file, lines]) => [file, lines.join("\n")])));

    it("stage order: a lower stage importing a higher one is refused; the same or a lower one, or a listed port type, is not", () => {
      const g = graph({
        "reconciler/entry/cli.ts": ['import { a } from "../apply/apply.ts";', 'import { c } from "../core/log.ts";'],
        "reconciler/apply/apply.ts": ['import { r } from "../report/rollout.ts";', 'import { x } from "./execution.ts";'],
        "reconciler/aws/s3.ts": ['import type { Stager } from "../apply/execution.ts";'],
        "reconciler/aws/wait.ts": ['import type { S } from "../observe/state.ts";'],
        "reconciler/core/log.ts": ['import { o } from "../observe/observe.ts";'],
      });
      expect(stageViolations(g, ["reconciler/aws/s3.ts -> reconciler/apply/execution.ts"])).to.deep.equal([
        "stage: reconciler/apply/apply.ts -> reconciler/report/rollout.ts",
        "stage: reconciler/aws/wait.ts -> reconciler/observe/state.ts (type)",
        "stage: reconciler/core/log.ts -> reconciler/observe/observe.ts",
      ]);
      // A port listed for its types does not excuse a value import.
      const valued = graph({ "reconciler/aws/s3.ts": ['import { stage } from "../apply/execution.ts";'] });
      expect(stageViolations(valued, ["reconciler/aws/s3.ts -> reconciler/apply/execution.ts"])).to.have.length(1);
    });

    it("cycles: any loop of imports, type-only ones included, each named once", () => {
      const g = graph({
        "reconciler/a.ts": ['import { b } from "./b.ts";'],
        "reconciler/b.ts": ['import type { C } from "./c.ts";'],
        "reconciler/c.ts": ['import { a } from "./a.ts";'],
        "reconciler/d.ts": ['import { a } from "./a.ts";'],
        "reconciler/e.ts": ['import { e } from "./e.ts";'],
      });
      expect(cycles(g)).to.deep.equal(["cycle: reconciler/a.ts <-> reconciler/b.ts <-> reconciler/c.ts"]);
      expect(cycles(graph({ "reconciler/a.ts": ['import { b } from "./b.ts";'], "reconciler/b.ts": [] }))).to.deep.equal([]);
    });

    it("read-only entry points: reaching apply/ through value imports is refused; a type-only import loads nothing", () => {
      const g = graph({
        "reconciler/entry/pr-plan.ts": ['import { r } from "../report/report.ts";', 'import type { A } from "../apply/apply.ts";'],
        "reconciler/entry/drift.ts": ['import type { R } from "../report/report.ts";'],
        "reconciler/report/report.ts": ['import { APPLY_STATUSES } from "../apply/apply.ts";'],
        "reconciler/apply/apply.ts": [],
      });
      expect(readOnlyViolations(g, ["reconciler/entry/pr-plan.ts", "reconciler/entry/drift.ts"])).to.deep.equal([
        "read-only: reconciler/entry/pr-plan.ts reaches apply/ via reconciler/entry/pr-plan.ts -> reconciler/report/report.ts -> reconciler/apply/apply.ts",
      ]);
    });
  });

  const files = sourcesUnder("reconciler");
  const sources = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), "utf8")]));

  it("reconciler/ keeps the SDK and no-I/O rules", () => {
    expect(files).to.include.members(["reconciler/aws/lambda.ts", "reconciler/entry/pr-plan.ts"]);
    const broken = files.flatMap((file) => violations(file, importsOf(sources.get(file)!)));
    expect(broken).to.deep.equal([]);
  });

  it("reconciler/ keeps the stage order, has no cycles, and its read-only entry points never load apply/ (but for KNOWN_VIOLATIONS)", () => {
    const graph = graphOf(sources);
    for (const entry of READ_ONLY_ENTRIES) expect(files, entry).to.include(entry);
    const found = [...stageViolations(graph, PORT_IMPORTS), ...cycles(graph), ...readOnlyViolations(graph, READ_ONLY_ENTRIES)];
    const unlisted = found.filter((v) => !KNOWN_VIOLATIONS.includes(v));
    const gone = KNOWN_VIOLATIONS.filter((v) => !found.includes(v));
    expect(unlisted, "violations not in KNOWN_VIOLATIONS (fix them)").to.deep.equal([]);
    expect(gone, "KNOWN_VIOLATIONS that no longer exist (remove them from the list)").to.deep.equal([]);
  });

  it("every PORT_IMPORTS entry is a type-only import that exists", () => {
    const graph = graphOf(sources);
    const stale = PORT_IMPORTS.filter((port) => {
      const [from, to] = port.split(" -> ");
      return graph.get(from!)?.get(to!)?.typeOnly !== true;
    });
    expect(stale).to.deep.equal([]);
  });
});
