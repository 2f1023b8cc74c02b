/**
 * A positioned document: JSON or YAML text -> a plain value in which every node keeps its line and
 * column, for files whose problems must point at `file:line:col`. Generic: what the document must
 * contain is the caller's business (definitions.ts for lambdas.json).
 *
 * Pure: text in, a document or every Problem out. Both formats are read with the `yaml` package so
 * that every node has a position; JSON must in addition be strict JSON (json-syntax.ts). Duplicate
 * keys are problems (JSON.parse would silently keep the last one, so a reviewer could read one value
 * while another is used). Capped: size, nesting depth and YAML alias expansion.
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
import { type Path, type Problem, renderPath } from "../core/errors.ts";
import { findJsonSyntaxError } from "./json-syntax.ts";
import { quoteValue } from "./versions.ts";

export { MAX_JSON_DEPTH } from "./json-syntax.ts";
/** YAML alias expansion limit (yaml's `maxAliasCount`): stops "billion laughs" documents. */
export const MAX_YAML_ALIAS_COUNT = 100;
export const TOO_DEEP_MESSAGE = "the document is nested too deeply to be read";

export type DocumentFormat = "json" | "yaml";

export interface Position {
  line: number;
  column: number;
}

export type { Path };

export interface PositionedDocument {
  file: string;
  lines: LineCounter;
  doc: Document.Parsed;
  /** What each alias node refers to (the last anchor of that name before it). */
  aliases: Map<YamlNode, YamlNode>;
  /** The document as JavaScript (yaml's toJS). */
  data: unknown;
}

export interface DocumentOptions {
  format: DocumentFormat;
  /** Largest accepted size in UTF-8 bytes, and how the message says it ("1 MiB"). */
  maxBytes: number;
  maxBytesLabel: string;
  /** The problem for an empty (or whitespace-only) document: says what was expected. */
  emptyMessage: string;
}

/** `problems`: duplicate keys, found while the document could still be read. */
export type DocumentResult =
  | { ok: true; document: PositionedDocument; problems: Problem[] }
  | { ok: false; problems: Problem[] };

export function readDocument(text: string, file: string, options: DocumentOptions): DocumentResult {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > options.maxBytes) {
    return fail(
      documentProblem(
        file,
        `the file is ${bytes} bytes, over the limit of ${options.maxBytes} bytes (${options.maxBytesLabel})`,
      ),
    );
  }
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (/^[ \t\r\n]*$/.test(source)) return fail(documentProblem(file, options.emptyMessage));
  if (options.format === "json") {
    const syntax = findJsonSyntaxError(source);
    if (syntax) return fail(problemAtOffset(file, countLines(source), syntax.offset, [], syntax.message));
  }
  return loadDocument(source, file, options);
}

const fail = (problem: Problem): DocumentResult => ({ ok: false, problems: [problem] });

/** Problems in reading order: position, then path, then message. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...problems].sort(
    (a, b) =>
      a.line - b.line || a.column - b.column || compare(a.path, b.path) || compare(a.message, b.message),
  );
}

/** A problem with the document as a whole, at 1:1. */
export function documentProblem(file: string, message: string): Problem {
  return { file, line: 1, column: 1, path: "", message };
}

/* ------------------------------------------------------------------------------------------------
 * Positions and paths
 * --------------------------------------------------------------------------------------------- */

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

/** A problem at a node (its start), about the value at `path`. */
export function problemAt(document: PositionedDocument, node: unknown, path: Path, message: string): Problem {
  return problemAtOffset(document.file, document.lines, startOf(node), path, message);
}

/** Where a node starts (1-based); 1:1 for a node without a position. */
export function positionOf(document: PositionedDocument, node: unknown): Position {
  const { line, col } = document.lines.linePos(startOf(node));
  return { line: Math.max(line, 1), column: Math.max(col, 1) };
}

function startOf(node: unknown): number {
  return isNode(node) && node.range ? node.range[0] : 0;
}

/** The JS key yaml's toJS uses for a map key node; undefined for collection keys. */
function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null || key.value === undefined ? "" : String(key.value);
  if (key === null || key === undefined) return "";
  return undefined;
}

export interface Located {
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
export function locate(document: PositionedDocument, path: Path): Located {
  let located: Located = { node: document.doc.contents, key: undefined, found: true };
  let alias: unknown;
  for (const segment of path) {
    let parent = located.node;
    if (isAlias(parent)) {
      alias ??= parent;
      parent = document.aliases.get(parent);
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
export function valueAt(data: unknown, path: Path): { present: true; value: unknown } | { present: false } {
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/* ------------------------------------------------------------------------------------------------
 * Reading the document
 * --------------------------------------------------------------------------------------------- */

function loadDocument(source: string, file: string, options: DocumentOptions): DocumentResult {
  const { format } = options;
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
  if (doc.contents === null) return fail(documentProblem(file, options.emptyMessage));
  const document: PositionedDocument = { file, lines, doc, aliases: new Map(), data: undefined };
  const structure = structureProblems(document);
  if (structure.unresolved.length > 0) return { ok: false, problems: structure.unresolved };
  const data = toData(document);
  if (!data.ok) return data;
  document.data = data.value;
  return { ok: true, document, problems: structure.duplicates };
}

function syntaxProblem(file: string, lines: LineCounter, format: DocumentFormat, error: YAMLError): Problem {
  return problemAtOffset(file, lines, error.pos[0], [], syntaxMessage(format, error));
}

function syntaxMessage(format: DocumentFormat, error: YAMLError): string {
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

function toData(document: PositionedDocument): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  try {
    return { ok: true, value: document.doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }) };
  } catch (error) {
    if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
      const message = `the document expands YAML aliases too often (limit ${MAX_YAML_ALIAS_COUNT}); use fewer aliases`;
      return { ok: false, problems: [documentProblem(document.file, message)] };
    }
    if (error instanceof RangeError)
      return { ok: false, problems: [documentProblem(document.file, TOO_DEEP_MESSAGE)] };
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
function structureProblems(document: PositionedDocument): { duplicates: Problem[]; unresolved: Problem[] } {
  const duplicates: Problem[] = [];
  const unresolved: Problem[] = [];
  const anchors = new Map<string, YamlNode>();
  const stack: WalkItem[] = [{ node: document.doc.contents, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, path } = item;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target) document.aliases.set(node, target);
      else unresolved.push(problemAt(document, node, path, unresolvedAliasMessage(node.source)));
      continue;
    }
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    const children: WalkItem[] = [];
    if (isMap(node)) {
      duplicates.push(...duplicateKeyProblems(document, node.items, path));
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

function duplicateKeyProblems(
  document: PositionedDocument,
  pairs: readonly { key: unknown }[],
  path: Path,
): Problem[] {
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
    const line = positionOf(document, earlier).line;
    problems.push(problemAt(document, key, path, `duplicate key ${quoteValue(name)} (first at line ${line})`));
  }
  return problems;
}
