/**
 * The definition file (lambdas.json or lambdas.yaml): its own rules on top of the positioned
 * document (document.ts): the shape of `lambdas`, did-you-mean for unknown keys, each function
 * listed once, and the functions found even in an invalid file (for the prefix policy).
 *
 * Pure: text in, a Definition or every Problem (with line and column) out. No fs, no AWS.
 */

import type { z } from "zod";
import { allowedKeysAt, definitionSchema, FUNCTION_NAME_PATTERN } from "./definition-schema.ts";
import type { Problem } from "../core/errors.ts";
import {
  documentProblem,
  isRecord,
  locate,
  type Path,
  type Position,
  type PositionedDocument,
  positionOf,
  problemAt,
  readDocument,
  sortProblems,
  TOO_DEEP_MESSAGE,
  valueAt,
} from "./document.ts";
import { closestKey } from "../core/suggest.ts";
import { groupRolloutProblems } from "./groups.ts";
import { resolveRollout, type Rollout, rolloutUnionIssues } from "./rollout-schema.ts";
import { quoteValue } from "./versions.ts";

export type { Position };
export interface CanarySpec {
  version: string;
  /** Percentage of traffic (0..100, two decimals at most). */
  weight: number;
}

/**
 * What the file declares LIVE should serve: the primary semantic version and, if any, a canary.
 * The one shape of that fact: the definition, the marker in LIVE's description, the plan's steps
 * and the JSON output all carry it.
 */
export interface Declared {
  version: string;
  canary?: CanarySpec;
}

/** The declared part of a function spec (or marker), as a fresh value. */
export function declaredOf(from: Declared): Declared {
  return from.canary ? { version: from.version, canary: { ...from.canary } } : { version: from.version };
}

/** Same declaration: same primary and the same canary (version and weight). */
export function sameDeclared(a: Declared, b: Declared): boolean {
  if (a.version !== b.version) return false;
  if (!a.canary || !b.canary) return !a.canary && !b.canary;
  return a.canary.version === b.canary.version && a.canary.weight === b.canary.weight;
}

export interface FunctionSpec extends Declared {
  name: string;
  /** The function's progressive rollout (its own, else the file's default); none: all at once. */
  rollout?: Rollout;
  /** The Regions it is reconciled in (its own, else the file's); none: the Region of the run. */
  regions?: string[];
  /** The release set the function moves with (input/groups.ts), if any. */
  group?: string;
  /** Index of the entry in `lambdas`. */
  index: number;
  /** Position of the entry's name value. */
  at: Position;
}
export interface Definition {
  file: string;
  functions: FunctionSpec[];
}

export const MAX_DEFINITION_BYTES = 1024 * 1024;

/** A listed function whose name is well-formed, found even when the file has other problems. */
export type NamedEntry = Pick<FunctionSpec, "name" | "index" | "at">;

/**
 * `named` lets callers check the prefix policy on a file that is otherwise invalid, so a
 * security problem is reported together with the rest instead of after the next fix.
 */
export type ParseResult =
  | { ok: true; definition: Definition }
  | { ok: false; problems: Problem[]; named: NamedEntry[] };

/** .yaml / .yml is YAML; anything else must be strict JSON. */
export function definitionFormat(file: string): "json" | "yaml" {
  return /\.ya?ml$/i.test(file) ? "yaml" : "json";
}

const EMPTY_MESSAGE = 'the file is empty: expected an object with a "lambdas" array';

export function parseDefinition(text: string, file: string): ParseResult {
  const read = readDocument(text, file, {
    format: definitionFormat(file),
    maxBytes: MAX_DEFINITION_BYTES,
    maxBytesLabel: "1 MiB",
    emptyMessage: EMPTY_MESSAGE,
  });
  if (!read.ok) return failed(read.problems);
  const { document, problems } = read;
  const validation = validate(document);
  problems.push(...validation.problems, ...duplicateNameProblems(document), ...duplicateRegionProblems(document));
  if (problems.length > 0 || !validation.data) return failed(problems, namedEntries(document));
  const functions = functionSpecs(document, validation.data);
  const groupProblems = groupRolloutProblems(document, functions);
  if (groupProblems.length > 0) return failed(groupProblems, namedEntries(document));
  return { ok: true, definition: { file, functions } };
}

function failed(problems: Problem[], named: NamedEntry[] = []): ParseResult {
  return { ok: false, problems: sortProblems(problems), named };
}

/* ------------------------------------------------------------------------------------------------
 * Validation
 * --------------------------------------------------------------------------------------------- */

type DefinitionData = z.infer<typeof definitionSchema>;

function validate(document: PositionedDocument): { problems: Problem[]; data?: DefinitionData } {
  let result: ReturnType<typeof definitionSchema.safeParse>;
  try {
    result = definitionSchema.safeParse(document.data);
  } catch (error) {
    if (error instanceof RangeError) return { problems: [documentProblem(document.file, TOO_DEEP_MESSAGE)] };
    throw error;
  }
  if (result.success) return { problems: [], data: result.data };
  return { problems: result.error.issues.flatMap((issue) => issueProblems(document, issue)) };
}

function issueProblems(document: PositionedDocument, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path;
  if (issue.code === "invalid_union") {
    const at = valueAt(document.data, path);
    return rolloutUnionIssues(issue, at.present ? at.value : undefined).flatMap((i) => issueProblems(document, i));
  }
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => {
      const located = locate(document, [...path, key]);
      const at = located.found ? located.key : locate(document, path).node;
      return problemAt(document, at, path, unknownKeyMessage(key, allowed));
    });
  }
  if (issue.code === "invalid_type") return [typeProblem(document, path, issue.expected)];
  return [problemAt(document, locate(document, path).node, path, issue.message)];
}

function typeProblem(document: PositionedDocument, path: Path, expected: string): Problem {
  const target = valueAt(document.data, path);
  const last = path.at(-1);
  if (!target.present && typeof last === "string") {
    const parent = path.slice(0, -1);
    return problemAt(
      document,
      locate(document, parent).node,
      parent,
      `missing required key ${JSON.stringify(last)}`,
    );
  }
  const found = target.present ? describeValue(target.value) : "nothing";
  return problemAt(
    document,
    locate(document, path).node,
    path,
    `expected ${expectedAt(path, expected)}, found ${found}`,
  );
}

function expectedAt(path: Path, expected: string): string {
  const last = path.at(-1);
  if (path.length === 0) return 'an object with a "lambdas" array';
  if (path.length === 1 && last === "lambdas") return "an array of functions";
  if (path.length === 2 && typeof last === "number") return 'an object with "name" and "version"';
  if (last === "canary") return 'an object with "version" and "weight"';
  if (last === "version") return 'a version string such as "1.4.2"';
  if (last === "name") return "a function name (a string)";
  if (last === "weight") return "a number (the percentage of traffic)";
  if (last === "rollout") return 'a rollout object with "steps" (or "all-at-once" on a function)';
  if (last === "steps") return "an array of percentages such as [10, 50]";
  if (last === "interval" || last === "bake") return 'a duration such as "5m"';
  if (last === "group") return 'a group name such as "orders"';
  if (last === "alarms") return "an array of CloudWatch alarm names";
  if (last === "regions") return 'an array of Region names such as ["eu-west-1"]';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** "the number 1.2", "an array", "null": what a wrong-typed value is, in a problem's words. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${quoteValue(value)}`;
    case "number":
      return Number.isFinite(value) ? `the number ${value}` : `${value} (not a finite number)`;
    case "boolean":
      return `the boolean ${value}`;
    case "object":
      return value instanceof Date ? "a date" : "an object";
    default:
      return typeof value;
  }
}

/** "unknown key X: did you mean Y?" (or the allowed keys): shared by every positioned input file. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestKey(key, allowed);
  if (suggestion !== undefined)
    return `unknown key ${quoteValue(key)}: did you mean ${JSON.stringify(suggestion)}?`;
  const list = allowed.map((k) => JSON.stringify(k)).join(", ");
  return list ? `unknown key ${quoteValue(key)}: allowed keys are ${list}` : `unknown key ${quoteValue(key)}`;
}

/** Every listing of a function after its first is a problem, whatever else is wrong with the entry. */
function duplicateNameProblems(document: PositionedDocument): Problem[] {
  const lambdas = valueAt(document.data, ["lambdas"]);
  if (!lambdas.present || !Array.isArray(lambdas.value)) return [];
  const first = new Map<string, number>();
  const problems: Problem[] = [];
  lambdas.value.forEach((entry: unknown, index) => {
    const name = valueAt(entry, ["name"]);
    if (!name.present || typeof name.value !== "string") return;
    const path = ["lambdas", index, "name"];
    const node = locate(document, path).node;
    const earlier = first.get(name.value);
    if (earlier === undefined) {
      first.set(name.value, positionOf(document, node).line);
      return;
    }
    const message = `function ${quoteValue(name.value)} is listed more than once (first at line ${earlier})`;
    problems.push(problemAt(document, node, path, message));
  });
  return problems;
}

/** A Region listed twice in the same "regions" (the file's or a function's) is a problem. */
function duplicateRegionProblems(document: PositionedDocument): Problem[] {
  const lambdas = valueAt(document.data, ["lambdas"]);
  const lists: Path[] = [["regions"]];
  if (lambdas.present && Array.isArray(lambdas.value)) {
    lambdas.value.forEach((_entry: unknown, index) => lists.push(["lambdas", index, "regions"]));
  }
  return lists.flatMap((listPath) => {
    const list = valueAt(document.data, listPath);
    if (!list.present || !Array.isArray(list.value)) return [];
    const seen = new Set<unknown>();
    return list.value.flatMap((region: unknown, index) => {
      if (typeof region !== "string" || !seen.has(region)) {
        seen.add(region);
        return [];
      }
      const path = [...listPath, index];
      return [problemAt(document, locate(document, path).node, path, `Region ${quoteValue(region)} is listed more than once`)];
    });
  });
}

function namedEntries(document: PositionedDocument): NamedEntry[] {
  const lambdas = isRecord(document.data) ? document.data.lambdas : undefined;
  if (!Array.isArray(lambdas)) return [];
  const wellFormed = new RegExp(FUNCTION_NAME_PATTERN);
  return lambdas.flatMap((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.name !== "string" || !wellFormed.test(entry.name)) return [];
    return [{ name: entry.name, index, at: nameAt(document, index) }];
  });
}

function functionSpecs(document: PositionedDocument, data: DefinitionData): FunctionSpec[] {
  return data.lambdas.map((entry, index) => {
    const spec: FunctionSpec = { name: entry.name, version: entry.version, index, at: nameAt(document, index) };
    if (entry.canary) spec.canary = { version: entry.canary.version, weight: entry.canary.weight };
    const regions = entry.regions ?? data.regions;
    if (regions) spec.regions = [...regions];
    const rollout = resolveRollout(entry.rollout, data.rollout);
    if (rollout) spec.rollout = rollout;
    if (entry.group !== undefined) spec.group = entry.group;
    return spec;
  });
}

/** Where the name of `lambdas[index]` is written (its alias, for an entry written as `*alias`). */
function nameAt(document: PositionedDocument, index: number): Position {
  return positionOf(document, locate(document, ["lambdas", index, "name"]).node);
}
