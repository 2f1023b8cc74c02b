/**
 * Parse and validate a definition file (lambdas.json or lambdas.yaml) into the desired state.
 *
 * Pure: text in, a Definition or every Problem (with line and column) out. No fs, no AWS.
 * Both formats are read with the `yaml` package so that every node has a position; a `.json`
 * file must in addition be strict JSON. Duplicate keys are errors (JSON.parse would silently keep
 * the last one, so a reviewer could read one version while another is deployed).
 */

import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLError,
  type Node as YamlNode,
} from "yaml";
import type { z } from "zod";
import { allowedKeysAt, definitionSchema, FUNCTION_NAME_PATTERN } from "./definition-schema.ts";
import type { Problem } from "../core/errors.ts";
import { findJsonSyntaxError } from "./json-syntax.ts";
import { closestKey } from "../core/suggest.ts";
import { quoteValue } from "./versions.ts";

export interface Position {
  line: number;
  column: number;
}
export interface CanarySpec {
  version: string;
  weight: number;
}
export interface FunctionSpec {
  name: string;
  version: string;
  canary?: CanarySpec;
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
/** YAML alias expansion limit (yaml's `maxAliasCount`): stops "billion laughs" documents. */
export const MAX_YAML_ALIAS_COUNT = 100;
export { MAX_JSON_DEPTH } from "./json-syntax.ts";

/** A listed function whose name is well-formed, found even when the file has other problems. */
export type NamedEntry = Pick<FunctionSpec, "name" | "index" | "at">;

/**
 * `named` lets callers check the prefix policy on a file that is otherwise invalid, so a
 * security problem is reported together with the rest instead of after the next fix.
 */
export type ParseResult =
  | { ok: true; definition: Definition }
  | { ok: false; problems: Problem[]; named: NamedEntry[] };

export function definitionFormat(file: string): "json" | "yaml" {
  return /\.ya?ml$/i.test(file) ? "yaml" : "json";
}

const EMPTY_MESSAGE = 'the file is empty: expected an object with a "lambdas" array';
const TOO_DEEP_MESSAGE = "the document is nested too deeply to be read";

export function parseDefinition(text: string, file: string): ParseResult {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_DEFINITION_BYTES) {
    return failed([
      documentProblem(
        file,
        `the file is ${bytes} bytes, over the limit of ${MAX_DEFINITION_BYTES} bytes (1 MiB)`,
      ),
    ]);
  }
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (/^[ \t\r\n]*$/.test(source)) return failed([documentProblem(file, EMPTY_MESSAGE)]);
  const format = definitionFormat(file);
  if (format === "json") {
    const syntax = findJsonSyntaxError(source);
    if (syntax) return failed([problemAtOffset(file, countLines(source), syntax.offset, [], syntax.message)]);
  }
  const loaded = loadDocument(source, file, format);
  if (!loaded.ok) return failed(loaded.problems);
  const { context, problems } = loaded;
  const validation = validate(context);
  problems.push(...validation.problems, ...duplicateNameProblems(context));
  if (problems.length > 0 || !validation.data) return failed(problems, namedEntries(context));
  return { ok: true, definition: { file, functions: functionSpecs(context, validation.data) } };
}

function failed(problems: Problem[], named: NamedEntry[] = []): ParseResult {
  return { ok: false, problems: sortProblems(problems), named };
}

function sortProblems(problems: Problem[]): Problem[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...problems].sort(
    (a, b) =>
      a.line - b.line || a.column - b.column || compare(a.path, b.path) || compare(a.message, b.message),
  );
}

function documentProblem(file: string, message: string): Problem {
  return { file, line: 1, column: 1, path: "", message };
}

/* ------------------------------------------------------------------------------------------------
 * Positions and paths
 * --------------------------------------------------------------------------------------------- */

type Path = readonly PropertyKey[];

interface Context {
  file: string;
  lines: LineCounter;
  doc: Document.Parsed;
  /** What each alias node refers to (the last anchor of that name before it). */
  aliases: Map<YamlNode, YamlNode>;
  /** The document as JavaScript (yaml's toJS). */
  data: unknown;
}

function countLines(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines.addNewLine(i + 1);
  return lines;
}

function problemAtOffset(
  file: string,
  lines: LineCounter,
  offset: number,
  path: Path,
  message: string,
): Problem {
  const { line, col } = lines.linePos(offset);
  return { file, line: Math.max(line, 1), column: Math.max(col, 1), path: renderPath(path), message };
}

function problemAt(context: Context, node: unknown, path: Path, message: string): Problem {
  return problemAtOffset(context.file, context.lines, startOf(node), path, message);
}

function startOf(node: unknown): number {
  return isNode(node) && node.range ? node.range[0] : 0;
}

/** ["lambdas", 3, "version"] -> "lambdas[3].version"; unusual keys are bracketed: `a["b c"]`. */
function renderPath(path: Path): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(segment)))
      out += out ? `.${String(segment)}` : String(segment);
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** The JS key yaml's toJS uses for a map key node; undefined for collection keys. */
function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null || key.value === undefined ? "" : String(key.value);
  if (key === null || key === undefined) return "";
  return undefined;
}

interface Located {
  /** The deepest node found along the path (the value, or the key when the value is empty). */
  node: unknown;
  /** The key node when the last step went through a map. */
  key: unknown;
  /** Whether the whole path was found. */
  found: boolean;
}

/**
 * Walks the document along a path. With duplicate keys the last one wins, as in toJS. A path
 * that goes through an alias (`- *entry`) is reported at the alias, where that value is used.
 */
function locate(context: Context, path: Path): Located {
  let located: Located = { node: context.doc.contents, key: undefined, found: true };
  let alias: unknown;
  for (const segment of path) {
    let parent = located.node;
    if (isAlias(parent)) {
      alias ??= parent;
      parent = context.aliases.get(parent);
    }
    const next = childOf(parent, segment);
    if (!next) return { ...located, node: alias ?? located.node, found: false };
    located = next;
  }
  return alias === undefined ? located : { node: alias, key: alias, found: located.found };
}

function childOf(parent: unknown, segment: PropertyKey): Located | undefined {
  if (isMap(parent)) {
    const pair = parent.items.findLast((item) => keyString(item.key) === String(segment));
    return pair ? { node: pair.value ?? pair.key, key: pair.key, found: true } : undefined;
  }
  if (isSeq(parent) && typeof segment === "number") {
    const item: unknown = parent.items[segment];
    return item === undefined ? undefined : { node: item, key: undefined, found: true };
  }
  return undefined;
}

/** The value at a path in plain data, without touching prototypes. */
function valueAt(data: unknown, path: Path): { present: true; value: unknown } | { present: false } {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === "number" && segment < current.length) {
      current = current[segment];
    } else if (isRecord(current) && typeof segment === "string" && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return { present: false };
    }
  }
  return { present: true, value: current };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/* ------------------------------------------------------------------------------------------------
 * Reading the document
 * --------------------------------------------------------------------------------------------- */

type Loaded = { ok: true; context: Context; problems: Problem[] } | { ok: false; problems: Problem[] };

function loadDocument(source: string, file: string, format: "json" | "yaml"): Loaded {
  const lines = new LineCounter();
  const doc = parseDocument(source, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: false, // reported below, with the key's name and the first occurrence
    logLevel: "error", // not "silent": that also drops the error for a second document
    schema: format === "json" ? "json" : "core",
  });
  const syntax = [...doc.errors, ...doc.warnings].map((error) => syntaxProblem(file, lines, format, error));
  if (syntax.length > 0) return { ok: false, problems: dedupe(syntax) };
  if (doc.contents === null) return { ok: false, problems: [documentProblem(file, EMPTY_MESSAGE)] };
  const context: Context = { file, lines, doc, aliases: new Map(), data: undefined };
  const structure = structureProblems(context);
  if (structure.unresolved.length > 0) return { ok: false, problems: structure.unresolved };
  const data = toData(context);
  if (!data.ok) return data;
  context.data = data.value;
  return { ok: true, context, problems: structure.duplicates };
}

function syntaxProblem(file: string, lines: LineCounter, format: "json" | "yaml", error: YAMLError): Problem {
  return problemAtOffset(file, lines, error.pos[0], [], syntaxMessage(format, error));
}

function syntaxMessage(format: "json" | "yaml", error: YAMLError): string {
  if (error.code === "RESOURCE_EXHAUSTION") return TOO_DEEP_MESSAGE;
  const label = format === "json" ? "cannot read the JSON" : "invalid YAML";
  if (error.code === "MULTIPLE_DOCS")
    return `${label}: the file holds more than one document; keep only the first`;
  return `${label}: ${error.message.trim()}`;
}

/** Drops repeated problems; running out of stack is reported once, wherever yaml noticed it. */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = p.message === TOO_DEEP_MESSAGE ? p.message : `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toData(context: Context): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  try {
    return { ok: true, value: context.doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }) };
  } catch (error) {
    if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
      const message = `the document expands YAML aliases too often (limit ${MAX_YAML_ALIAS_COUNT}); use fewer aliases`;
      return { ok: false, problems: [documentProblem(context.file, message)] };
    }
    if (error instanceof RangeError)
      return { ok: false, problems: [documentProblem(context.file, TOO_DEEP_MESSAGE)] };
    throw error;
  }
}

interface WalkItem {
  node: unknown;
  path: Path;
}

/**
 * One pass over the document in source order: duplicate keys, and aliases whose anchor is not
 * defined before them (yaml only notices those when converting). Also records alias targets.
 */
function structureProblems(context: Context): { duplicates: Problem[]; unresolved: Problem[] } {
  const duplicates: Problem[] = [];
  const unresolved: Problem[] = [];
  const anchors = new Map<string, YamlNode>();
  const stack: WalkItem[] = [{ node: context.doc.contents, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, path } = item;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) context.aliases.set(node, target);
      else unresolved.push(problemAt(context, node, path, unresolvedAliasMessage(node.source)));
      continue;
    }
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    const children: WalkItem[] = [];
    if (isMap(node)) {
      duplicates.push(...duplicateKeyProblems(context, node.items, path));
      for (const pair of node.items) {
        const key = keyString(pair.key) ?? "?";
        children.push({ node: pair.key, path }, { node: pair.value, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((child, index) => {
        children.push({ node: child, path: [...path, index] });
      });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return { duplicates, unresolved };
}

function unresolvedAliasMessage(source: string): string {
  return `unknown alias "*${source}": define the anchor "&${source}" before using it`;
}

function duplicateKeyProblems(context: Context, pairs: readonly { key: unknown }[], path: Path): Problem[] {
  const first = new Map<string, unknown>();
  const problems: Problem[] = [];
  for (const { key } of pairs) {
    const name = keyString(key);
    if (name === undefined) continue;
    const earlier = first.get(name);
    if (earlier === undefined) {
      first.set(name, key);
      continue;
    }
    const line = context.lines.linePos(startOf(earlier)).line;
    problems.push(problemAt(context, key, path, `duplicate key ${quoteValue(name)} (first at line ${line})`));
  }
  return problems;
}

/* ------------------------------------------------------------------------------------------------
 * Validation
 * --------------------------------------------------------------------------------------------- */

type DefinitionData = z.infer<typeof definitionSchema>;

function validate(context: Context): { problems: Problem[]; data?: DefinitionData } {
  let result: ReturnType<typeof definitionSchema.safeParse>;
  try {
    result = definitionSchema.safeParse(context.data);
  } catch (error) {
    if (error instanceof RangeError) return { problems: [documentProblem(context.file, TOO_DEEP_MESSAGE)] };
    throw error;
  }
  if (result.success) return { problems: [], data: result.data };
  return { problems: result.error.issues.flatMap((issue) => issueProblems(context, issue)) };
}

function issueProblems(context: Context, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => {
      const located = locate(context, [...path, key]);
      const at = located.found ? located.key : locate(context, path).node;
      return problemAt(context, at, path, unknownKeyMessage(key, allowed));
    });
  }
  if (issue.code === "invalid_type") return [typeProblem(context, path, issue.expected)];
  return [problemAt(context, locate(context, path).node, path, issue.message)];
}

function typeProblem(context: Context, path: Path, expected: string): Problem {
  const target = valueAt(context.data, path);
  const last = path.at(-1);
  if (!target.present && typeof last === "string") {
    const parent = path.slice(0, -1);
    return problemAt(
      context,
      locate(context, parent).node,
      parent,
      `missing required key ${JSON.stringify(last)}`,
    );
  }
  const found = target.present ? describeValue(target.value) : "nothing";
  return problemAt(
    context,
    locate(context, path).node,
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
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeValue(value: unknown): string {
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

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const suggestion = closestKey(key, allowed);
  if (suggestion !== undefined)
    return `unknown key ${quoteValue(key)}: did you mean ${JSON.stringify(suggestion)}?`;
  const list = allowed.map((k) => JSON.stringify(k)).join(", ");
  return list ? `unknown key ${quoteValue(key)}: allowed keys are ${list}` : `unknown key ${quoteValue(key)}`;
}

/** Every listing of a function after its first is a problem, whatever else is wrong with the entry. */
function duplicateNameProblems(context: Context): Problem[] {
  const lambdas = valueAt(context.data, ["lambdas"]);
  if (!lambdas.present || !Array.isArray(lambdas.value)) return [];
  const first = new Map<string, number>();
  const problems: Problem[] = [];
  lambdas.value.forEach((entry: unknown, index) => {
    const name = valueAt(entry, ["name"]);
    if (!name.present || typeof name.value !== "string") return;
    const path = ["lambdas", index, "name"];
    const node = locate(context, path).node;
    const earlier = first.get(name.value);
    if (earlier === undefined) {
      first.set(name.value, context.lines.linePos(startOf(node)).line);
      return;
    }
    const message = `function ${quoteValue(name.value)} is listed more than once (first at line ${earlier})`;
    problems.push(problemAt(context, node, path, message));
  });
  return problems;
}

function namedEntries(context: Context): NamedEntry[] {
  const lambdas = isRecord(context.data) ? context.data.lambdas : undefined;
  if (!Array.isArray(lambdas)) return [];
  const wellFormed = new RegExp(FUNCTION_NAME_PATTERN);
  return lambdas.flatMap((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.name !== "string" || !wellFormed.test(entry.name)) return [];
    const { line, col } = context.lines.linePos(startOf(locate(context, ["lambdas", index, "name"]).node));
    return [{ name: entry.name, index, at: { line: Math.max(line, 1), column: Math.max(col, 1) } }];
  });
}

function functionSpecs(context: Context, data: DefinitionData): FunctionSpec[] {
  return data.lambdas.map((entry, index) => {
    const { line, col } = context.lines.linePos(startOf(locate(context, ["lambdas", index, "name"]).node));
    const at = { line: Math.max(line, 1), column: Math.max(col, 1) };
    const spec: FunctionSpec = { name: entry.name, version: entry.version, index, at };
    if (entry.canary) spec.canary = { version: entry.canary.version, weight: entry.canary.weight };
    return spec;
  });
}
